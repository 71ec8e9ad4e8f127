// Runs one scenario: a fresh chaos stack, the scenario's setup, its workload published at its rate
// profile while its fault hook runs every second, the drain, then the reconciliation and the
// scenario's own checks. Backlog is computed, not read from the emulator (which has no backlog
// metrics): published minus acknowledged by the function (the push proxy's count) minus messages
// the subscription's dead-letter policy gave up on, sampled every second.

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DisorderOptions } from '../simulator/telemetry-generator.js';
import { type ChaosStack, startChaosStack } from './chaos-stack.js';
import { generateWorkload, type PublishProgress, publishPaced, type RateProfile } from './chaos-workload.js';
import { type Reconciliation, reconcile } from './reconcile.js';

export interface ScenarioContext {
  stack: ChaosStack;
  progress: PublishProgress;
  /** Messages this scenario publishes in all. */
  total: number;
  /** Faults the scenario injected, described (process kills; stand-in faults are counted by their injectors). */
  injected: string[];
  /** Runs a fault beside the stream (publishing goes on meanwhile); the run waits for it before draining ends. */
  inBackground(action: Promise<unknown>): void;
  log: (line: string) => void;
}

export interface ScenarioSpec {
  id: number;
  name: string;
  vehicles: number;
  readings: number;
  /** Readings per message (default 20: a vehicle uploading every 20 s at 1 Hz). */
  batch?: number;
  rate: RateProfile;
  disorder: DisorderOptions;
  appendfsync?: 'always' | 'everysec';
  setup?: (ctx: ScenarioContext) => Promise<void> | void;
  /** Runs about once a second while publishing: where faults are injected. */
  during?: (ctx: ScenarioContext, elapsedMs: number) => Promise<void> | void;
  /** Extra figures and failed expectations, after the reconciliation. */
  check?: (ctx: ScenarioContext, result: Reconciliation) => Promise<ScenarioCheck> | ScenarioCheck;
}

export interface ScenarioCheck {
  figures: Record<string, number | string>;
  failures: string[];
}

export interface ScenarioResult {
  chaos: {
    scenario: string;
    published: number;
    valid: number;
    rows: number;
    lost: number;
    duplicated: number;
    dead_lettered: number;
    max_backlog: number;
    drain_s: number;
  };
  reconciliation: Reconciliation;
  figures: Record<string, number | string>;
  failures: string[];
}

export interface RunnerEnv {
  repoRoot: string;
  dataRoot: string;
  projectId: string;
  pubsubEmulatorHost: string;
  allowedLatenessS: number;
  log: (line: string) => void;
  /** Bound on the drain after publishing (a stuck pipeline fails the scenario instead of hanging). */
  maxDrainMs?: number;
}

export async function runScenario(spec: ScenarioSpec, env: RunnerEnv): Promise<ScenarioResult> {
  const suffix = `${spec.id}${randomBytes(3).toString('hex')}`;
  const dataDir = join(env.dataRoot, `scenario-${spec.id}-${suffix}`);
  await mkdir(dataDir, { recursive: true });
  const log = (line: string) => env.log(`[${spec.id} ${spec.name}] ${line}`);
  const stack = await startChaosStack({
    dataDir,
    repoRoot: env.repoRoot,
    projectId: env.projectId,
    pubsubEmulatorHost: env.pubsubEmulatorHost,
    suffix,
    allowedLatenessS: env.allowedLatenessS,
    appendfsync: spec.appendfsync ?? 'always',
    insertIdWindowMs: 60_000,
    log,
  });
  try {
    const messages = generateWorkload({
      vehicles: spec.vehicles,
      readings: spec.readings,
      seed: 1000 + spec.id,
      allowedLatenessMs: env.allowedLatenessS * 1000,
      disorder: spec.disorder,
      batch: spec.batch ?? 20,
    });
    const progress: PublishProgress = { published: [], finishedAtMs: undefined };
    const background: Promise<unknown>[] = [];
    const ctx: ScenarioContext = {
      stack,
      progress,
      total: messages.length,
      injected: [],
      log,
      inBackground: (action) => background.push(action),
    };
    const readings = messages.reduce((a, m) => a + m.items.length, 0);
    await spec.setup?.(ctx);

    // In readings: those of published messages neither acknowledged by the function nor given up on.
    const backlog = () => {
      const givenUp = new Set(stack.deadLetters.filter((d) => d.reason === undefined).map((d) => d.data));
      let pending = 0;
      for (const m of progress.published)
        if (!stack.proxy.record(m.messageId)?.acknowledged && !givenUp.has(m.data)) pending += m.items.length;
      return pending;
    };
    let maxBacklog = 0;
    let drainedAt: number | undefined;
    const sampler = setInterval(() => {
      const now = backlog();
      maxBacklog = Math.max(maxBacklog, now);
      if (progress.finishedAtMs !== undefined && now <= 0) drainedAt ??= Date.now();
    }, 250);
    log(`publishing ${readings} readings in ${messages.length} messages to ${stack.config.topics.telemetry}`);
    const started = Date.now();
    try {
      await publishPaced({
        pubsub: stack.pubsub,
        topic: stack.config.topics.telemetry,
        messages,
        rate: spec.rate,
        progress,
        onSecond: (elapsed) => spec.during?.(ctx, elapsed),
      });
      log(`published in ${((Date.now() - started) / 1000).toFixed(1)} s; draining`);
      await Promise.all(background);
      const deadline = Date.now() + (env.maxDrainMs ?? 600_000);
      let last = backlog();
      let lastMove = Date.now();
      let lastReport = Date.now();
      let nextSecond = Date.now() + 1000;
      while (drainedAt === undefined && Date.now() < deadline && Date.now() - lastMove < 120_000) {
        await sleep(250);
        // A short run may publish everything before its fault is due: the hook goes on while draining.
        if (Date.now() >= nextSecond) {
          nextSecond += 1000;
          await spec.during?.(ctx, Date.now() - started);
        }
        if (Date.now() - lastReport >= 5_000) {
          lastReport = Date.now();
          const records = [...stack.proxy.records().values()];
          log(
            `backlog ${backlog()}: acknowledged ${stack.proxy.acknowledged}/${progress.published.length}, ` +
              `deliveries ${records.reduce((a, r) => a + r.deliveries, 0)} (failed ${records.reduce((a, r) => a + r.failures, 0)}), in flight ${stack.proxy.inFlight}`,
          );
        }
        const now = backlog();
        if (now !== last) lastMove = Date.now();
        last = now;
        if (now <= 0) drainedAt ??= Date.now();
      }
    } finally {
      clearInterval(sampler);
    }
    await Promise.all(background);
    const drainS = drainedAt === undefined ? -1 : (drainedAt - progress.finishedAtMs!) / 1000;
    // The archives' open objects are written once under the faults (a failed write nacks its
    // messages, which come back into a later object), then again with the sinks whole, before
    // everything is read back.
    await stack.archiveWriters.flush({ quietMs: 1_000, timeoutMs: 60_000 });
    stack.faults.bigquery.configure({});
    stack.faults.gcs.configure({});
    await stack.archiveWriters.flush({ quietMs: 2_000, timeoutMs: 120_000 });
    await sleep(2_000); // the dead-letter watch's last messages
    const result = await reconcile({
      config: stack.config,
      bigquery: stack.bigquery,
      storage: stack.storage,
      published: progress.published,
      deadLetters: stack.deadLetters,
    });
    const extra = (await spec.check?.(ctx, result)) ?? { figures: {}, failures: [] };
    const failures = [...extra.failures];
    if (result.lost > 0) failures.push(`${result.lost} valid reading(s) without a row`);
    if (result.duplicated > 0) failures.push(`${result.duplicated} row(s) beyond one per valid reading`);
    if (result.archive_lost > 0)
      failures.push(`${result.archive_lost} valid reading(s) missing from the archive`);
    if (result.raw_archive_lost > 0) failures.push(`${result.raw_archive_lost} message(s) missing from raw/`);
    if (result.invalid_missed > 0)
      failures.push(`${result.invalid_missed} invalid message(s) not dead-lettered`);
    if (drainS < 0) failures.push('the backlog never drained');
    const deliveries = [...stack.proxy.records().values()];
    const figures: Record<string, number | string> = {
      faults_injected: ctx.injected.length,
      deliveries: deliveries.reduce((a, r) => a + r.deliveries, 0),
      failed_deliveries: deliveries.reduce((a, r) => a + r.failures, 0),
      max_deliveries_per_message: deliveries.reduce((a, r) => Math.max(a, r.deliveries), 0),
      ...extra.figures,
    };
    return {
      chaos: {
        scenario: spec.name,
        published: result.published,
        valid: result.valid,
        rows: result.rows,
        lost: result.lost,
        duplicated: result.duplicated,
        dead_lettered: result.dead_lettered,
        max_backlog: maxBacklog,
        drain_s: Math.round(drainS * 10) / 10,
      },
      reconciliation: result,
      figures,
      failures,
    };
  } finally {
    await stack.stop();
  }
}

/** The scenario's table and its CHAOS line. */
export function formatResult(result: ScenarioResult): string {
  const entries: [string, string | number][] = [
    ...Object.entries(result.reconciliation),
    ['max_backlog', result.chaos.max_backlog],
    ['drain_s', result.chaos.drain_s],
    ...Object.entries(result.figures),
  ];
  const width = Math.max(...entries.map(([k]) => k.length));
  const lines = [
    `── scenario ${result.chaos.scenario} ${'─'.repeat(Math.max(0, 60 - result.chaos.scenario.length))}`,
    ...entries.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    ...(result.failures.length === 0 ? ['  ok'] : result.failures.map((f) => `  FAILED: ${f}`)),
    `CHAOS ${JSON.stringify(result.chaos)}`,
  ];
  return lines.join('\n');
}
