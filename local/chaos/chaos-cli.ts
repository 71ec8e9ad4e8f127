// `npm run chaos [-- --scenario 1,3 --scale 0.5 --data-dir .local/chaos]`: the reliability suite
// (issue 14). Builds the functions, starts one Pub/Sub emulator for the whole run, then runs each
// scenario on a fresh stack (local/chaos/chaos-stack.ts), printing a table and one CHAOS line
// each. Exits 1 when any scenario lost or duplicated a reading or failed one of its checks.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePrerequisites } from '../prerequisites.js';
import { startPubSubEmulator } from '../servers/pubsub-emulator.js';
import { formatResult, runScenario } from './chaos-runner.js';
import { scenarios } from './scenarios.js';

const USAGE = `usage: npm run chaos -- [options]
  --scenario 1,2,7   which scenarios (default all: 1 duplicates-reordering, 2 redis-killed,
                     3 sink-faults, 4 burst-10x, 5 poison, 6 soak, 7 function-killed)
  --scale 1          workload size (0.05..1; the soak and burst durations scale too)
  --data-dir DIR     where each scenario's warehouse, objects and logs go (default .local/chaos)
  --appendfsync P    Redis AOF fsync policy, always (default: what the guarantee assumes) or everysec`;

const repoRoot = resolve(import.meta.dirname, '../..');
const ALLOWED_LATENESS_S = 600;

/** A bad flag: the message and the usage, exit 2, no stack trace. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'all' },
      scale: { type: 'string', default: '1' },
      'data-dir': { type: 'string', default: '.local/chaos' },
      appendfsync: { type: 'string', default: 'always' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const scale = Number(values.scale);
  if (!(scale >= 0.05 && scale <= 1)) throw new UsageError('--scale must be in [0.05, 1]');
  const fsync = values.appendfsync;
  if (fsync !== 'always' && fsync !== 'everysec') throw new UsageError('--appendfsync: always or everysec');
  const appendfsync: 'always' | 'everysec' = fsync;
  const all = scenarios({ scale, allowedLatenessMs: ALLOWED_LATENESS_S * 1000 }).map((s) => ({
    ...s,
    appendfsync,
  }));
  const wanted =
    values.scenario === 'all'
      ? all.map((s) => s.id)
      : values.scenario.split(',').map((s) => Number(s.trim()));
  const chosen = all.filter((s) => wanted.includes(s.id));
  if (chosen.length !== wanted.length) {
    throw new UsageError(`unknown scenario in --scenario ${values.scenario} (1 to ${all.length})`);
  }

  const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
  await ensurePrerequisites({ install: true });
  log('building the functions (dist/)');
  try {
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    if (!existsSync(join(repoRoot, 'dist/functions/process-telemetry/index.js'))) throw error;
    log('the build failed: running the functions of the previous build in dist/');
  }
  const dataRoot = resolve(values['data-dir']);
  await rm(dataRoot, { recursive: true, force: true });
  await mkdir(dataRoot, { recursive: true });
  const projectId = 'fleet-features-chaos';
  log('starting the Pub/Sub emulator');
  const emulator = await startPubSubEmulator({ dir: join(dataRoot, 'pubsub'), projectId });
  const started = Date.now();
  const lines: string[] = [];
  let failed = 0;
  try {
    for (const spec of chosen) {
      const t0 = Date.now();
      const result = await runScenario(spec, {
        repoRoot,
        dataRoot,
        projectId,
        pubsubEmulatorHost: emulator.host,
        allowedLatenessS: ALLOWED_LATENESS_S,
        log,
      });
      const text = formatResult(result);
      process.stdout.write(`${text}\n  (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      lines.push(text.split('\n').at(-1)!);
      if (result.failures.length > 0) failed++;
    }
  } finally {
    await emulator.stop();
  }
  process.stdout.write(
    `\n${chosen.length} scenario(s) in ${((Date.now() - started) / 60_000).toFixed(1)} min, ${failed} failed\n${lines.join('\n')}\n`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`npm run chaos: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(
      `[chaos] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
