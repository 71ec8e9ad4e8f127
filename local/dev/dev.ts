// `npm run dev`: the whole pipeline on one machine. Starts Redis, the Pub/Sub emulator, the GCS and
// BigQuery stand-ins and every function under functions-framework; wires push subscriptions from
// the emulator to the functions; runs the archive writers in place of the Cloud Storage
// subscriptions; writes <data-dir>/stack.json naming every endpoint; runs the device simulator
// (unless --vehicles 0); shows progress; prints what landed where; stops everything (also on
// Ctrl-C), or with --keep first prints the stack file and a "try it" block and waits for Ctrl-C.

import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ensurePrerequisites } from '../prerequisites.js';
import { fleetTopic } from '../simulator/gateway-publisher.js';
import { publishSimulatedFleet } from '../simulator/simulated-publisher.js';
import { type DevOptions, parseDevOptions } from './dev-options.js';
import { startDevStack } from './dev-stack.js';
import { collectSummary, printSummary } from './dev-summary.js';
import { tryItLines } from './stack-endpoints.js';
import { startStackHealth } from './stack-health.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<unknown>)[] = [];
let stopping = false;
let stopped: Promise<void> | undefined;

/** Every caller (Ctrl-C, the end of a run) waits for the one stop. */
function stopAll(): Promise<void> {
  stopping = true;
  stopped ??= (async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  })();
  return stopped;
}

async function main(options: DevOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`[dev] ${line}\n`);
  await ensurePrerequisites({ install: true });
  const dataDir = resolve(options.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });

  const dev = await startDevStack({
    dataDir,
    repoRoot,
    allowedLatenessS: options.allowedLatenessS,
    dashboardPort: options.dashboardPort,
    log,
    cleanups,
  });
  const { config, functions, featuresApi, archiveWriters } = dev;
  log(`every endpoint of the stack: ${dev.stackFile}`);
  const printTryIt = () => process.stdout.write(`${tryItLines(dev.endpoints, dev.stackFile).join('\n')}\n`);
  // Counts what landed (also without the simulator: the dashboard shows your own devices' too).
  const { progress, health } = startStackHealth(dev, {
    eventClockSpeedup: options.vehicles === 0 ? 1 : options.speedup,
    bar: options.vehicles > 0,
    cleanups,
  });
  if (options.vehicles === 0) {
    log('no simulated vehicles: the stack serves your own devices and tools');
  } else {
    const published = await publishSimulatedFleet({
      topic: fleetTopic(dev.pubsub, config.topics.telemetry, functions, options.viaGateway),
      options,
      onPublished: (readings, expectedRows) => progress.published(readings, expectedRows),
      shouldStop: () => stopping,
    });
    log('devices stopped; waiting for the pipeline to drain');
    await progress.waitForDrain({ expectedRows: published.expectedRows, stallMs: 30_000, maxMs: 900_000 });
    // A short run ends long before an archive object would be cut (minutes or many MB): write the
    // open ones now, as Pub/Sub would when their max duration passes.
    log("writing the archives' open objects");
    await archiveWriters.flush();
    progress.endBar();

    const summary = await collectSummary({
      bigquery: dev.bigquery,
      storage: dev.storage,
      config,
      published,
      progress,
      featuresApi,
      archives: dev.subscriptions.archives,
      archiveWriters,
      health,
    });
    printSummary(summary, {
      dataDir,
      warehousePath: dev.stack.warehousePath,
      objectStoreRoot: dev.stack.objectStoreRoot,
    });
  }
  if (options.keep && !stopping) {
    printTryIt();
    log('servers keep running; Ctrl-C stops them');
    await new Promise<void>((resolveKeep) => process.once('SIGINT', () => resolveKeep()));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n[dev] ${signal}: stopping everything\n`);
    void stopAll().then(() => process.exit(130));
  });
}

let options: DevOptions;
try {
  options = parseDevOptions(process.argv.slice(2));
} catch (error) {
  console.error(`npm run dev: ${(error as Error).message}`);
  process.exit(2);
}
main(options)
  .then(() => stopAll())
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    console.error(`[dev] failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exit(1);
  });
