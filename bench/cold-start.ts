// A function's cold start as Cloud Functions sees it: from spawning `node` with functions-framework
// to the first response served (module load, framework setup, listen, one request).

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionSpec } from '../local/servers/function-servers.js';

/** functions-framework's server entry point in this repository (the package's bin). */
export const FRAMEWORK_MAIN = join(
  dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);

export interface ProbeRequest {
  path: string;
  /** A JSON body sent with the GET, if any. */
  json?: unknown;
}

/**
 * A request every function answers without touching Redis, Pub/Sub or the model. HTTP functions:
 * their own 404 for an unknown route. CloudEvent functions only take POSTs, and every POST reaches
 * the handler; a GET passes the framework's event middleware only with a JSON object body (it
 * crashes on none), then gets the framework's 404.
 */
export function probeRequest(spec: Pick<FunctionSpec, 'signature'>): ProbeRequest {
  return spec.signature === 'cloudevent' ? { path: '/', json: {} } : { path: '/cold-start-probe' };
}

export interface FrameworkProcess {
  child: ChildProcess;
  /** The server listens on this Unix socket: no free-port race with other processes on the machine. */
  socketPath: string;
  /** Spawn to the first response, in ms. */
  firstResponseMs: number;
  /** Status of that first response. */
  firstStatus: number;
  /**
   * CPU time (user + system, all threads) the process had used when that response arrived, in ms
   * (Linux /proc, 10 ms ticks; undefined elsewhere). Unlike wall time it hardly depends on what
   * else the machine is running: on an idle dedicated core the cold start takes about this long.
   */
  firstResponseCpuMs: number | undefined;
  /** One HTTP request to the function; the answer's status and body. */
  send(request: { method?: string; path: string; json?: unknown }): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

function send(
  socketPath: string,
  options: { method?: string; path: string; json?: unknown },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const req = request(
      {
        socketPath,
        path: options.path,
        method: options.method ?? 'GET',
        agent: false,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** CPU ms a process has used so far, from /proc/<pid>/stat (utime + stime, USER_HZ = 100). */
async function processCpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * 10 : undefined;
}

/**
 * Spawns `node <args>` listening on a fresh Unix socket (functions-framework passes --port to
 * `server.listen`, which takes a path as well as a number), sends `probe` every 2 ms until an answer,
 * and returns the time from spawn to that answer. `args` run functions-framework: either the
 * framework's main with --source, or a bundle that carries the framework.
 */
export async function startFrameworkProcess(options: {
  args: string[];
  env: Record<string, string>;
  probe: ProbeRequest;
  timeoutMs?: number;
}): Promise<FrameworkProcess> {
  const socketPath = join(tmpdir(), `fleet-fn-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
  const started = performance.now();
  const child = spawn(process.execPath, [...options.args, `--port=${socketPath}`], {
    env: { ...options.env, PORT: socketPath },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(socketPath, { force: true });
  };
  const deadline = started + (options.timeoutMs ?? 30_000);
  while (performance.now() < deadline) {
    if (child.exitCode !== null) break;
    const answer = await send(socketPath, { path: options.probe.path, json: options.probe.json }).catch(
      () => undefined,
    );
    if (answer !== undefined) {
      const firstResponseMs = performance.now() - started;
      return {
        child,
        socketPath,
        firstResponseMs,
        firstStatus: answer.status,
        firstResponseCpuMs: await processCpuMs(child.pid),
        send: (request) => send(socketPath, request),
        stop,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await stop();
  throw new Error(
    `node ${options.args.join(' ')} served no request on ${socketPath} (exit ${child.exitCode}):\n${stderr}`,
  );
}

/**
 * Module load alone: a fresh `node` imports the function's index.js (which registers it with
 * functions-framework) and reports how long the import took, in ms, timed inside the process. The
 * part of a cold start that bundling changes; the framework's own start and the first request are
 * in `startFrameworkProcess`'s figure.
 */
export async function measureModuleLoad(indexPath: string, env: Record<string, string>): Promise<number> {
  const script = [
    'const t = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(indexPath).href)});`,
    'process.stdout.write(String(performance.now() - t));',
    'process.exit(0);',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = Number(stdout.trim());
  if (code !== 0 || !Number.isFinite(ms))
    throw new Error(`importing ${indexPath} failed (exit ${code}):\n${stderr}`);
  return ms;
}
