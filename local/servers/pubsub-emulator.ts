// The Pub/Sub emulator (Java, from the Google Cloud SDK) for tests and the local stack. It runs the
// SDK's launcher directly when present (one JVM, ~2-5 s to start here), else through
// `gcloud beta emulators pubsub start`, which forks Python and then Java: either way it leads its own
// process group and is stopped as a group. Ready when its log says it listens on our port and
// `GET /` answers `Ok`. Clients reach it with PUBSUB_EMULATOR_HOST=<host> (no credentials needed).

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './find-executable.js';
import { startOnFreePort } from './free-port.js';
import { LocalServerError } from './local-server-error.js';
import { startProcessGroup } from './process-group.js';

export const PUBSUB_EMULATOR_LAUNCHER =
  '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator';
export const PUBSUB_EMULATOR_INSTALL_HINT =
  'install the Google Cloud SDK Pub/Sub emulator (Debian: apt-get install google-cloud-cli-pubsub-emulator, ' +
  'or `gcloud components install pubsub-emulator`)';
export const JAVA_INSTALL_HINT =
  'install a Java runtime >= 11 (Debian: apt-get install -y --no-install-recommends default-jre-headless)';

export interface StartPubSubEmulatorOptions {
  /** Working, data and log directory of the emulator. */
  dir: string;
  /** Fixed port; by default a free one is picked (and re-picked if another process grabs it first). */
  port?: number;
  /** Project the gcloud fallback runs under; the emulator itself accepts any project. */
  projectId?: string;
  /** Startup deadline; the JVM start is slow on a busy 2-core machine. */
  timeoutMs?: number;
}

export interface RunningPubSubEmulator {
  /** `127.0.0.1:PORT`, the value for PUBSUB_EMULATOR_HOST. */
  host: string;
  port: number;
  logPath: string;
  stop(): Promise<void>;
}

export type PubSubEmulatorCommand = { command: string; args: string[] };

const HOST = '127.0.0.1';
const DEFAULT_PROJECT_ID = 'fleet-features-local';

/**
 * How to run the emulator on this machine, or a `BINARY_MISSING` error naming what to install.
 * Exported for the prerequisites check.
 */
export function resolvePubSubEmulatorCommand(
  port: number,
  options: { dir: string; projectId?: string },
): PubSubEmulatorCommand {
  if (findJava() === undefined) {
    throw new LocalServerError(
      'BINARY_MISSING',
      'pubsub-emulator',
      `The Pub/Sub emulator needs Java, and no \`java\` is on PATH (nor in JAVA_HOME): ${JAVA_INSTALL_HINT}.`,
    );
  }
  if (existsSync(PUBSUB_EMULATOR_LAUNCHER)) {
    return { command: PUBSUB_EMULATOR_LAUNCHER, args: [`--host=${HOST}`, `--port=${port}`] };
  }
  const gcloud = findExecutable('gcloud');
  if (gcloud !== undefined) {
    return {
      command: gcloud,
      args: [
        'beta',
        'emulators',
        'pubsub',
        'start',
        `--host-port=${HOST}:${port}`,
        `--data-dir=${options.dir}`,
        `--project=${options.projectId ?? DEFAULT_PROJECT_ID}`,
        '--quiet',
      ],
    };
  }
  throw new LocalServerError(
    'BINARY_MISSING',
    'pubsub-emulator',
    `The Pub/Sub emulator is not installed (no ${PUBSUB_EMULATOR_LAUNCHER} and no gcloud on PATH): ` +
      `${PUBSUB_EMULATOR_INSTALL_HINT}.`,
  );
}

export function findJava(): string | undefined {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome) {
    const candidate = join(javaHome, 'bin', 'java');
    if (existsSync(candidate)) return candidate;
  }
  return findExecutable('java');
}

export async function startPubSubEmulator(
  options: StartPubSubEmulatorOptions,
): Promise<RunningPubSubEmulator> {
  mkdirSync(options.dir, { recursive: true });
  return startOnFreePort(options.port, (port) => startOnPort(options, port), { host: HOST });
}

async function startOnPort(
  options: StartPubSubEmulatorOptions,
  port: number,
): Promise<RunningPubSubEmulator> {
  const { command, args } = resolvePubSubEmulatorCommand(port, options);
  const group = await startProcessGroup({
    name: `pubsub-emulator-${port}`,
    command,
    args,
    cwd: options.dir,
    logDir: options.dir,
    installHint: PUBSUB_EMULATOR_INSTALL_HINT,
  });
  // "Server started, listening on P" is printed by this JVM only: an `Ok` from whoever else might own
  // the port does not count. The emulator logs a BindException and keeps running when the port is taken.
  const listening = new RegExp(`Server started, listening on ${port}\\b`);
  await group.waitUntilReady(async () => listening.test(group.logTail(64_000)) && (await answersOk(port)), {
    what: `GET http://${HOST}:${port}/ answered Ok`,
    timeoutMs: options.timeoutMs ?? 60_000,
    intervalMs: 200,
    portInUsePattern: /BindException|Address already in use/,
  });
  return {
    host: `${HOST}:${port}`,
    port,
    logPath: group.logPath,
    stop: () => group.stop({ graceMs: 5_000 }),
  };
}

async function answersOk(port: number): Promise<boolean> {
  const response = await fetch(`http://${HOST}:${port}/`, { signal: AbortSignal.timeout(2_000) });
  return response.ok && (await response.text()).trim() === 'Ok';
}
