// Runs a server as the leader of its own process group so that everything it forks (the Pub/Sub
// emulator's launcher execs or forks a JVM; gcloud forks Python and then Java) is stopped together by
// signalling the group. Output goes straight to a log file (no pipe keeps this process busy) and its
// tail is put into startup errors, which is usually all one needs to see why a server did not come up.
// Groups still running when this process exits or is interrupted are killed, so a crashed or ^C'd
// test run leaves nothing behind. A SIGKILL of this process itself cannot be caught: that is the one
// case where a group can outlive us.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalServerError } from './local-server-error.js';

export interface ProcessGroupOptions {
  /** Short name used in the log file name and in errors, e.g. `redis-server`. */
  name: string;
  command: string;
  args: readonly string[];
  /** Directory for `<name>.log`; created if missing. */
  logDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Appended to the error when `command` cannot be executed, e.g. `apt-get install redis-server`. */
  installHint?: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ReadinessOptions {
  /** What is being waited for, for the error message, e.g. `PING answered with PONG`. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /**
   * A log line that means the bind failed. Checked before anything else: some servers (the Pub/Sub
   * emulator) log the failure and keep running, and the probe could then reach whoever owns the port.
   */
  portInUsePattern?: RegExp;
}

export interface ProcessGroup {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Settles when the group leader exits. */
  readonly exited: Promise<ProcessExit>;
  hasExited(): boolean;
  /** The last `maxBytes` of the log, for diagnosis. */
  logTail(maxBytes?: number): string;
  /**
   * Polls `probe` until it returns true. Throws `LocalServerError` (`PORT_IN_USE`, `EXITED_EARLY` or `START_TIMEOUT`,
   * with the log tail in the message) and stops the group when it does not become ready.
   */
  waitUntilReady(probe: () => Promise<boolean>, options: ReadinessOptions): Promise<void>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

const DEFAULT_GRACE_MS = 5_000;
const KILL_WAIT_MS = 3_000;
const POLL_MS = 50;

const liveGroups = new Set<number>();
let exitHooksInstalled = false;

export async function startProcessGroup(options: ProcessGroupOptions): Promise<ProcessGroup> {
  mkdirSync(options.logDir, { recursive: true });
  const logPath = join(options.logDir, `${options.name}.log`);
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true, // setsid(): the child leads a new process group
      stdio: ['ignore', logFd, logFd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LocalServerError(
      missing ? 'BINARY_MISSING' : 'EXITED_EARLY',
      options.name,
      missing
        ? `${options.name}: cannot run ${options.command}: not found.` +
            (options.installHint ? ` Install it: ${options.installHint}` : '')
        : `${options.name}: failed to start ${options.command}: ${(error as Error).message}`,
      { cause: error, logPath },
    );
  } finally {
    closeSync(logFd); // the child holds its own copy
  }

  const pid = child.pid;
  if (pid === undefined) {
    throw new LocalServerError('EXITED_EARLY', options.name, `${options.name}: spawned without a pid`, {
      logPath,
    });
  }
  installExitHooks();
  liveGroups.add(pid);
  // The group must not keep this process alive: a forgotten stop() is handled by the exit hooks.
  child.unref();

  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= stopGroup(pid, exited, stopOptions.graceMs ?? DEFAULT_GRACE_MS);
    return stopping;
  };
  const logTail = (maxBytes = 4_000): string => readTail(logPath, maxBytes);

  const group: ProcessGroup = {
    name: options.name,
    pid,
    logPath,
    exited,
    hasExited: () => exit !== undefined,
    logTail,
    stop,
    async waitUntilReady(probe, readiness) {
      const deadline = Date.now() + readiness.timeoutMs;
      const interval = readiness.intervalMs ?? 100;
      for (;;) {
        if (readiness.portInUsePattern?.test(logTail(64_000))) {
          await stop();
          throw new LocalServerError(
            'PORT_IN_USE',
            options.name,
            `${options.name} could not bind its port. Log ${logPath}:\n${logTail()}`,
            { logPath },
          );
        }
        if (exit !== undefined) {
          await stop();
          throw new LocalServerError(
            'EXITED_EARLY',
            options.name,
            `${options.name} exited (${describeExit(exit)}) before ${readiness.what}. ` +
              `Log ${logPath}:\n${logTail()}`,
            { logPath },
          );
        }
        if (await probe().catch(() => false)) return;
        if (Date.now() >= deadline) {
          await stop();
          throw new LocalServerError(
            'START_TIMEOUT',
            options.name,
            `${options.name} not ready after ${readiness.timeoutMs} ms (waiting for ${readiness.what}). ` +
              `Log ${logPath}:\n${logTail()}`,
            { logPath },
          );
        }
        await Promise.race([sleep(interval), exited]);
      }
    },
  };
  return group;
}

async function stopGroup(pid: number, exited: Promise<ProcessExit>, graceMs: number): Promise<void> {
  if (signalGroup(pid, 'SIGTERM')) {
    await waitForGroupGone(pid, graceMs);
    if (signalGroup(pid, 'SIGKILL')) await waitForGroupGone(pid, KILL_WAIT_MS);
  }
  liveGroups.delete(pid);
  // The leader has been signalled to death by now; bound the wait anyway so stop() never hangs.
  await Promise.race([exited, sleep(KILL_WAIT_MS)]);
}

async function waitForGroupGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(POLL_MS);
}

/** Sends `signal` to every process in the group; false when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function groupAlive(pid: number): boolean {
  return signalGroup(pid, 0);
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' handlers must be synchronous: no grace period, straight to SIGKILL.
  process.on('exit', killAllGroups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllGroups();
      // Listening to a signal disables Node's default "terminate". When nobody else handles it,
      // re-raise it so the process still ends with the usual status.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function killAllGroups(): void {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
  liveGroups.clear();
}

function readTail(path: string, maxBytes: number): string {
  try {
    const size = statSync(path).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  } catch {
    return '(no log)';
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
