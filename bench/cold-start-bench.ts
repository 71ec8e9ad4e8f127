// `npm run bench:cold-start`: each function's cold start (spawn → first request served, see
// bench/cold-start.ts), unbundled (tsc output, as `npm run build`) against bundled (esbuild, as
// `npm run bundle`; functions-framework as the bundle's one dependency, which is what deploys), and
// with the framework bundled in too: wall time and the process's CPU time at the first response.
// Runs alternate between the variants; the median is reported.
// A table on stdout and one `COLD_START {json}` line; progress on stderr.
//
//   npm run bench:cold-start -- [--runs 7]

import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getFreePort } from '../local/servers/free-port.js';
import { FUNCTIONS, type FunctionSpec } from '../local/servers/function-servers.js';
import {
  bundleFunctions,
  discoverFunctionFolders,
  type FunctionBundle,
} from '../scripts/function-bundles.js';
import { FRAMEWORK_MAIN, measureModuleLoad, probeRequest, startFrameworkProcess } from './cold-start.js';
import { buildFunctions } from './online-http.js';

const USAGE = `Usage: npm run bench:cold-start -- [--runs N]
  --runs N   cold starts per function and variant, median reported (default 7)
  --help`;

type Variant = 'unbundled' | 'bundled' | 'frameworkBundled';
const VARIANTS: readonly Variant[] = ['unbundled', 'bundled', 'frameworkBundled'];

const log = (line: string) => process.stderr.write(`[bench:cold-start] ${line}\n`);
const r1 = (v: number) => Math.round(v * 10) / 10;
const r2 = (v: number) => Math.round(v * 100) / 100;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function specFor(folder: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.folder === folder);
  if (spec === undefined) throw new Error(`functions/${folder} is not in local/servers/function-servers.ts`);
  return spec;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { runs: { type: 'string', default: '7' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    process.stderr.write(`--runs must be an integer in 1..50\n\n${USAGE}\n`);
    return 2;
  }

  const repoRoot = resolve(import.meta.dirname, '..');
  // Inside the repository, so the unbundled build and the bundles resolve its node_modules.
  const dataDir = join(repoRoot, '.local', 'bench-cold-start');
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  log('building the functions with tsc (as npm run build)');
  await buildFunctions(repoRoot, join(dataDir, 'build'));
  log('bundling the functions with esbuild (as npm run bundle)');
  const bundled = await bundleFunctions({ repoRoot, outRoot: join(dataDir, 'bundles') });
  const frameworkBundled = await bundleFunctions({
    repoRoot,
    outRoot: join(dataDir, 'bundles-with-framework'),
    framework: 'bundled',
  });
  const bundleOf = (list: FunctionBundle[], folder: string) => list.find((b) => b.folder === folder)!;

  // Nothing listens on these: no request below reaches Redis, Pub/Sub, GCS or BigQuery, and no
  // client may reach Google.
  const closed = await getFreePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    METADATA_SERVER_DETECTION: 'none',
    LOG_LEVEL: 'warn',
    GOOGLE_CLOUD_PROJECT: 'fleet-features-bench',
    REDIS_URL: `redis://127.0.0.1:${closed}`,
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${closed}`,
    STORAGE_EMULATOR_HOST: `http://127.0.0.1:${closed}`,
    BIGQUERY_API_ENDPOINT: `http://127.0.0.1:${closed}`,
    INGEST_FLEET_SECRET: 'bench-fleet-secret-0123456789abcdef0123456789abcdef',
  };

  const folders = await discoverFunctionFolders(repoRoot);
  const samples = new Map<string, number[]>();
  const record = (key: string, value: number | undefined) => {
    if (value !== undefined) samples.set(key, [...(samples.get(key) ?? []), value]);
  };
  const argsFor = (spec: FunctionSpec, variant: Variant): string[] => {
    const flags = [`--target=${spec.target}`, `--signature-type=${spec.signature}`];
    switch (variant) {
      case 'unbundled':
        return [
          FRAMEWORK_MAIN,
          ...flags,
          `--source=${join(dataDir, 'build/dist/functions', spec.folder, 'index.js')}`,
        ];
      case 'bundled':
        return [FRAMEWORK_MAIN, ...flags, `--source=${join(bundleOf(bundled, spec.folder).dir, 'index.js')}`];
      case 'frameworkBundled': {
        const index = join(bundleOf(frameworkBundled, spec.folder).dir, 'index.js');
        return [index, ...flags, `--source=${index}`];
      }
    }
  };
  for (let run = 1; run <= runs; run++) {
    log(`run ${run}/${runs}`);
    for (const folder of folders) {
      const spec = specFor(folder);
      for (const variant of VARIANTS) {
        const started = await startFrameworkProcess({
          args: argsFor(spec, variant),
          env: { ...env, ...spec.env },
          probe: probeRequest(spec),
        });
        await started.stop();
        if (started.firstStatus >= 500) {
          throw new Error(`${folder} (${variant}) answered ${started.firstStatus} to its first request`);
        }
        record(`${folder}/${variant}`, started.firstResponseMs);
        record(`${folder}/${variant}/cpu`, started.firstResponseCpuMs);
      }
      const specEnv = { ...env, ...spec.env };
      record(
        `${folder}/unbundled/load`,
        await measureModuleLoad(join(dataDir, 'build/dist/functions', spec.folder, 'index.js'), specEnv),
      );
      record(
        `${folder}/bundled/load`,
        await measureModuleLoad(join(bundleOf(bundled, folder).dir, 'index.js'), specEnv),
      );
    }
  }

  const results = folders.map((folder) => {
    const ms = (key: string) => median(samples.get(`${folder}/${key}`) ?? []);
    const cpu = (variant: Variant) => {
      const values = samples.get(`${folder}/${variant}/cpu`);
      return values === undefined ? null : median(values);
    };
    const cpuUnbundled = cpu('unbundled');
    const cpuBundled = cpu('bundled');
    const bundle = bundleOf(bundled, folder);
    return {
      function: folder,
      unbundled_load_ms: r1(ms('unbundled/load')),
      bundled_load_ms: r1(ms('bundled/load')),
      load_ratio: r2(ms('bundled/load') / ms('unbundled/load')),
      unbundled_ms: r1(ms('unbundled')),
      bundled_ms: r1(ms('bundled')),
      ratio: r2(ms('bundled') / ms('unbundled')),
      unbundled_cpu_ms: cpuUnbundled,
      bundled_cpu_ms: cpuBundled,
      cpu_ratio: cpuUnbundled && cpuBundled !== null ? r2(cpuBundled / cpuUnbundled) : null,
      framework_bundled_ms: r1(ms('frameworkBundled')),
      framework_bundled_ratio: r2(ms('frameworkBundled') / ms('unbundled')),
      bundle_index_bytes: bundle.files.find((f) => f.path === 'index.js')?.bytes ?? 0,
      bundle_zip_bytes: bundle.zipBytes,
    };
  });

  const header = [
    'function',
    'load unbundled',
    'load bundled',
    'ratio',
    'unbundled ms',
    'bundled ms',
    'ratio',
    'unbundled CPU ms',
    'bundled CPU ms',
    'ratio',
    'framework bundled ms',
    'ratio',
    'zip KiB',
  ];
  const orDash = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
  const rows = results.map((r) => [
    r.function,
    r.unbundled_load_ms.toFixed(1),
    r.bundled_load_ms.toFixed(1),
    r.load_ratio.toFixed(2),
    r.unbundled_ms.toFixed(1),
    r.bundled_ms.toFixed(1),
    r.ratio.toFixed(2),
    orDash(r.unbundled_cpu_ms, 0),
    orDash(r.bundled_cpu_ms, 0),
    orDash(r.cpu_ratio, 2),
    r.framework_bundled_ms.toFixed(1),
    r.framework_bundled_ratio.toFixed(2),
    (r.bundle_zip_bytes / 1024).toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(
    [
      `Cold start, median of ${runs} runs. load = module load alone (a fresh node imports index.js, timed inside);`,
      'the other columns: spawn → first response served (Node start, functions-framework, module load, listen, one request).',
      'bundled = npm run bundle, functions-framework as its one dependency; framework bundled = the framework inside the bundle;',
      `CPU ms = the process's CPU time at that response, which a busy machine inflates far less than wall time)`,
      line(header),
      ...rows.map(line),
      '',
      `COLD_START ${JSON.stringify({ runs, node: process.version, functions: results })}`,
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bench:cold-start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
