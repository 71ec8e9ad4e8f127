// Every deployable function, served by the real functions-framework (one process group each, on a
// free port), from the build output in dist/ — the same JavaScript a deploy ships.

import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { LOCAL_FLEET_SECRET } from '../simulator/gateway-publisher.js';
import { getFreePort } from './free-port.js';
import { type ProcessGroup, startProcessGroup } from './process-group.js';

export interface FunctionSpec {
  /** Folder under functions/ and dist/functions/. */
  folder: string;
  /** Name the function registers with the framework. */
  target: string;
  signature: 'http' | 'cloudevent';
  /** Settings the function needs on the local stack beyond the stack's own (the caller's env wins). */
  env?: Readonly<Record<string, string>>;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  { folder: 'process-telemetry', target: 'processTelemetry', signature: 'cloudevent' },
  { folder: 'features-api', target: 'featuresApi', signature: 'http' },
  { folder: 'trainer', target: 'trainer', signature: 'http' },
  { folder: 'drift', target: 'drift', signature: 'http' },
  // A fixed, public fleet secret: for the local stack only. The simulator's fleet is far faster
  // than a real vehicle (--speedup), so its per-device rate limit is lifted.
  {
    folder: 'ingest-gateway',
    target: 'ingestGateway',
    signature: 'http',
    env: { INGEST_FLEET_SECRET: LOCAL_FLEET_SECRET, INGEST_RATE_PER_S: '100000', INGEST_BURST: '100000' },
  },
];

export interface RunningFunction extends FunctionSpec {
  url: string;
  port: number;
  group: ProcessGroup;
}

// The package's `functions-framework` bin (its exports map hides package.json and main.js).
const frameworkMain = join(
  dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);

export async function startFunction(options: {
  spec: FunctionSpec;
  repoRoot: string;
  logDir: string;
  env: Record<string, string>;
}): Promise<RunningFunction> {
  const port = await getFreePort();
  const { spec } = options;
  const group = await startProcessGroup({
    name: `function-${spec.folder}`,
    command: process.execPath,
    args: [
      frameworkMain,
      `--target=${spec.target}`,
      `--signature-type=${spec.signature}`,
      `--source=${join(options.repoRoot, 'dist/functions', spec.folder, 'index.js')}`,
      `--port=${port}`,
    ],
    logDir: options.logDir,
    cwd: options.repoRoot,
    env: { ...process.env, ...spec.env, ...options.env, PORT: String(port) },
  });
  const url = `http://127.0.0.1:${port}`;
  await group.waitUntilReady(
    // A TCP connect, not a request: a bodiless request would be logged as a failed invocation.
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    { what: `functions-framework serving ${spec.target}`, timeoutMs: 30_000 },
  );
  return { ...spec, url, port, group };
}
