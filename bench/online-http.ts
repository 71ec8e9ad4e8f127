import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import autocannon from 'autocannon';
import { FUNCTIONS, startFunction } from '../local/servers/function-servers.js';
import { createSeededRandom } from '../local/simulator/seeded-random.js';
import { type LatencySummary, summarizeLatencies } from './concurrent-replay.js';

/**
 * The online API as clients see it: the real featuresApi function under functions-framework (its
 * own process, built from this tree like a deploy), against the bench's Redis, loaded with
 * autocannon for a fixed time at a given number of connections, each request for a random vehicle
 * of the fleet. Latency is timed per response (autocannon's own histogram has 1 ms resolution),
 * garbage collection pauses of both processes included.
 */
export interface HttpLoadResult extends LatencySummary {
  connections: number;
  requests: number;
  requestsPerS: number;
  /** Responses other than 200 (e.g. 404 for a vehicle without a vector: must be 0), and socket errors. */
  failures: number;
}

export interface OnlineHttpResult {
  /** One entry per load level, in the order measured. */
  levels: HttpLoadResult[];
}

const TSC_TIMEOUT_MS = 180_000;

/**
 * Compiles the deployable code (tsconfig.build.json, as `npm run build` does, with the .lua files it
 * copies) into `<buildRoot>/dist`. `buildRoot` lies inside the repository so the compiled modules
 * resolve its node_modules and package.json. Emit only (--noCheck): type checking is
 * `npm run typecheck`'s job, and skipping it keeps the bench's quick mode quick.
 */
export async function buildFunctions(repoRoot: string, buildRoot: string): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const outDir = join(buildRoot, 'dist');
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        tsc,
        '-p',
        join(repoRoot, 'tsconfig.build.json'),
        '--outDir',
        outDir,
        '--sourceMap',
        'false',
        '--noCheck',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TSC_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, output: text });
    });
  });
  // 0: clean; 2: type errors, output emitted anyway (noEmitOnError is off).
  if (code !== 0 && code !== 2)
    throw new Error(`building the functions failed (tsc exit ${code}):\n${output}`);
  for (const source of await assetFiles(join(repoRoot, 'shared'))) {
    const target = join(outDir, relative(repoRoot, source));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
  }
}

/** Files the build copies beside the compiled modules (the Redis scripts). */
async function assetFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.lua')).map((e) => join(e.parentPath, e.name));
}

export async function runOnlineHttp(options: {
  buildRoot: string;
  logDir: string;
  redisUrl: string;
  vehicleIds: readonly string[];
  seconds: number;
  connections: readonly number[];
  seed: number;
  onProgress?: (done: number) => void;
}): Promise<HttpLoadResult[]> {
  const spec = FUNCTIONS.find((f) => f.target === 'featuresApi');
  if (spec === undefined)
    throw new Error('featuresApi is not in local/servers/function-servers.ts FUNCTIONS');
  const fn = await startFunction({
    spec,
    repoRoot: options.buildRoot,
    logDir: options.logDir,
    env: { REDIS_URL: options.redisUrl, LOG_LEVEL: 'warn' },
  });
  try {
    const random = createSeededRandom(options.seed);
    const pick = () => options.vehicleIds[Math.floor(random.next() * options.vehicleIds.length)]!;
    // Warm-up: JIT, the function's Redis connections, keep-alive sockets.
    await load(fn.url, pick, Math.max(...options.connections), Math.min(2, options.seconds));
    const levels: HttpLoadResult[] = [];
    for (const connections of options.connections) {
      levels.push(await load(fn.url, pick, connections, options.seconds));
      options.onProgress?.(levels.length);
    }
    return levels;
  } finally {
    await fn.group.stop({ graceMs: 2_000 });
  }
}

async function load(
  url: string,
  pick: () => string,
  connections: number,
  seconds: number,
): Promise<HttpLoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 5,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `/v1/vehicles/${pick()}/features` }),
      },
    ],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode === 200) latencies.push(responseTimeMs);
    else failures++;
  });
  const result = await instance;
  failures += result.errors + result.timeouts;
  return {
    connections,
    requests: result.requests.total,
    requestsPerS: result.requests.total / seconds,
    ...summarizeLatencies(Float64Array.from(latencies)),
    failures,
  };
}
