// The seven scenarios of `npm run chaos` (issue 14). `scale` shrinks the workload (the tests run
// 1, 2, 3 and 5 at a small scale); rates stay those of a scale-1 run except where noted.

import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ScenarioContext, ScenarioSpec } from './chaos-runner.js';
import { checkFinalWindows } from './final-windows.js';

/** The steady rate of a run, in readings per second (the emulator pushes ~20 messages/s here). */
export const BASE_RATE = 100;

const steady: (rate: number) => () => number = (rate) => () => rate;

/**
 * Fires once, when `share` of the workload has been published and pushes are in flight, beside the
 * stream: publishing goes on while the process is down and restarting.
 */
function atShare(share: number, action: (ctx: ScenarioContext) => Promise<void>) {
  let done = false;
  return (ctx: ScenarioContext) => {
    if (done || ctx.progress.published.length < share * ctx.total) return;
    done = true;
    // The hook runs once a second and a push lasts milliseconds: wait here (briefly) for one in
    // flight, so the fault meets work in progress, rather than hoping a tick lands on one.
    ctx.inBackground(
      (async () => {
        const until = Date.now() + 3_000;
        while (ctx.stack.proxy.inFlight === 0 && Date.now() < until) await sleep(1);
        ctx.injected.push(
          `at ${ctx.progress.published.length}/${ctx.total} messages, ${ctx.stack.proxy.inFlight} pushes in flight`,
        );
        await action(ctx);
      })(),
    );
  };
}

export function scenarios(options: { scale: number; allowedLatenessMs: number }): ScenarioSpec[] {
  const n = (readings: number) => Math.max(200, Math.round(readings * options.scale));
  return [
    {
      id: 1,
      name: 'duplicates-reordering',
      vehicles: 30,
      readings: n(10_000),
      rate: steady(BASE_RATE * 2),
      disorder: { reSendRate: 0.05, reformatShare: 0.5, heldBackRate: 0.02 },
      async check(ctx) {
        const windows = await checkFinalWindows({
          redis: ctx.stack.redisClient,
          published: ctx.progress.published,
          allowedLatenessMs: options.allowedLatenessMs,
        });
        const items = ctx.progress.published.flatMap((m) => m.items);
        const resent = items.filter((i) => i.kind === 're_send').length;
        const outOfOrder = items.filter((i) => i.kind === 'held_back').length;
        return {
          figures: {
            re_sends: resent,
            out_of_order: outOfOrder,
            window_vehicles: windows.vehicles,
            window_columns_compared: windows.compared,
            window_mismatches: windows.mismatches.length,
          },
          failures: windows.mismatches.slice(0, 5).map((m) => `window: ${m}`),
        };
      },
    },
    {
      id: 2,
      name: 'redis-killed',
      vehicles: 30,
      readings: n(10_000),
      rate: steady(BASE_RATE * 2),
      disorder: { reSendRate: 0.01, heldBackRate: 0.01 },
      appendfsync: 'always',
      during: atShare(0.4, async (ctx) => {
        ctx.log(
          `SIGKILL redis-server (pid ${ctx.stack.redisPid()}) with ${ctx.stack.proxy.inFlight} pushes in flight`,
        );
        await ctx.stack.killAndRestartRedis(2_000);
        ctx.log(`redis-server restarted from its AOF (pid ${ctx.stack.redisPid()})`);
      }),
      check: (ctx) => ({ figures: retryFigures(ctx), failures: [] }),
    },
    {
      id: 3,
      name: 'sink-faults',
      vehicles: 30,
      readings: n(8_000),
      rate: steady(BASE_RATE),
      disorder: { reSendRate: 0.01, heldBackRate: 0.01, malformedRate: 0.005 },
      setup(ctx) {
        ctx.stack.faults.bigquery.configure({
          errorShare: 0.05,
          timeoutShare: 0.02,
          lostResponseShare: 0.03,
          partialShare: 0.05,
          holdMs: 2_000,
        });
        ctx.stack.faults.gcs.configure({
          errorShare: 0.05,
          timeoutShare: 0.02,
          lostResponseShare: 0.03,
          holdMs: 2_000,
        });
      },
      check(ctx) {
        const bq = ctx.stack.faults.bigquery.counts();
        const gcs = ctx.stack.faults.gcs.counts();
        const failures: string[] = [];
        const figures = retryFigures(ctx);
        if (Number(figures.max_deliveries_per_message) > 5)
          failures.push(`a message was delivered ${figures.max_deliveries_per_message} times (policy: 5)`);
        return {
          figures: {
            ...figures,
            bq_inserts: bq.writes,
            bq_errors_500_503: bq.errors,
            bq_timeouts: bq.timeouts,
            bq_lost_responses: bq.lostResponses,
            bq_partial_inserts: bq.partials,
            bq_failed_rows: bq.failedRows,
            gcs_writes: gcs.writes,
            gcs_errors_500_503: gcs.errors,
            gcs_timeouts: gcs.timeouts,
            gcs_lost_responses: gcs.lostResponses,
            archive_failed_writes:
              ctx.stack.archiveWriters.features.stats().failedWrites +
              ctx.stack.archiveWriters.raw.stats().failedWrites,
          },
          failures,
        };
      },
    },
    {
      id: 4,
      name: 'burst-10x',
      vehicles: 60,
      // 20 s steady, 60 s at ten times the rate, 20 s steady (durations scale with the run).
      readings: Math.round(BASE_RATE * (40 + 600) * Math.min(1, options.scale)),
      rate: (elapsedMs) => {
        const t = elapsedMs / 1000 / Math.min(1, options.scale);
        return t >= 20 && t < 80 ? BASE_RATE * 10 : BASE_RATE;
      },
      disorder: { reSendRate: 0.01, heldBackRate: 0.01 },
      check: (ctx) => ({ figures: retryFigures(ctx), failures: [] }),
    },
    {
      id: 5,
      name: 'poison',
      vehicles: 30,
      readings: n(8_000),
      rate: steady(BASE_RATE * 2),
      disorder: { reSendRate: 0.01, heldBackRate: 0.01, malformedRate: 0.01 },
      setup: (ctx) => ctx.stack.proxy.resetAckGap(),
      check(ctx) {
        const poison = ctx.progress.published.filter((m) => m.items.some((i) => i.kind === 'malformed'));
        let retriedMoreThanOnce = 0;
        let maxDeliveries = 0;
        for (const m of poison) {
          const record = ctx.stack.proxy.record(m.messageId);
          maxDeliveries = Math.max(maxDeliveries, record?.deliveries ?? 0);
          if ((record?.deliveries ?? 0) > 2) retriedMoreThanOnce++;
        }
        const reasons = new Map<string, number>();
        for (const d of ctx.stack.deadLetters)
          if (d.reason) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
        const maxGapS = ctx.stack.proxy.maxAckGapMs() / 1000;
        return {
          figures: {
            poison_messages: poison.length,
            poison_max_deliveries: maxDeliveries,
            poison_retried_more_than_once: retriedMoreThanOnce,
            max_s_without_an_ack: Math.round(maxGapS * 10) / 10,
            reasons: [...reasons].map(([r, c]) => `${r}=${c}`).join(' '),
          },
          failures:
            retriedMoreThanOnce > 0
              ? [`${retriedMoreThanOnce} poison message(s) retried more than once`]
              : [],
        };
      },
    },
    soak(options.scale),
    {
      id: 7,
      name: 'function-killed',
      vehicles: 30,
      readings: n(10_000),
      rate: steady(BASE_RATE * 2),
      disorder: { reSendRate: 0.01, heldBackRate: 0.01 },
      during: atShare(0.4, async (ctx) => {
        ctx.log(
          `SIGKILL processTelemetry (pid ${ctx.stack.featurePid()}) with ${ctx.stack.proxy.inFlight} pushes in flight`,
        );
        await ctx.stack.killAndRestartFeatureFunction(1_000);
        ctx.log(`processTelemetry restarted (pid ${ctx.stack.featurePid()})`);
      }),
      check: (ctx, result) => ({
        figures: { ...retryFigures(ctx), archive_duplicates_from_crash: result.archive_duplicates },
        failures: [],
      }),
    },
  ];
}

function soak(scale: number): ScenarioSpec {
  const durationS = Math.max(30, 600 * Math.min(1, scale));
  const samples: { label: string; memory: MemorySample }[] = [];
  const warmUpMs = Math.max(30, durationS / 5) * 1000;
  return {
    id: 6,
    name: 'soak',
    // Few vehicles, so event time runs ~5x the wall and the dedupe horizon (the allowed lateness of
    // event time) is reached early: what is kept per vehicle then stops growing.
    vehicles: 20,
    readings: Math.round(BASE_RATE * durationS),
    rate: steady(BASE_RATE),
    disorder: { reSendRate: 0.01, heldBackRate: 0.01 },
    async during(ctx, elapsedMs) {
      // Start after a warm-up (JIT, connection pools, the dedupe horizon filling), end at the end.
      if (samples.length === 0 && elapsedMs >= warmUpMs)
        samples.push({ label: 'start', memory: await sampleMemory(ctx) });
    },
    async check(ctx) {
      samples.push({ label: 'end', memory: await sampleMemory(ctx) });
      const [start, end] = [samples[0]!.memory, samples.at(-1)!.memory];
      const mb = (bytes: number) => Math.round(bytes / 1048576);
      return {
        figures: {
          soak_s: durationS,
          memory_sampled_from_s: warmUpMs / 1000,
          function_rss_mb_start_end: `${mb(start.functionRss)} -> ${mb(end.functionRss)}`,
          redis_rss_mb_start_end: `${mb(start.redisRss)} -> ${mb(end.redisRss)}`,
          redis_used_memory_mb_start_end: `${mb(start.redisUsedMemory)} -> ${mb(end.redisUsedMemory)}`,
          suite_rss_mb_start_end: `${mb(start.suiteRss)} -> ${mb(end.suiteRss)}`,
        },
        failures: [],
      };
    },
  };
}

interface MemorySample {
  functionRss: number;
  redisRss: number;
  redisUsedMemory: number;
  /** This process: the stand-ins, the archive writers and the push proxy live here. */
  suiteRss: number;
}

async function sampleMemory(ctx: ScenarioContext): Promise<MemorySample> {
  return {
    functionRss: groupRss(ctx.stack.featurePid()),
    redisRss: groupRss(ctx.stack.redisPid()),
    redisUsedMemory: await usedMemory(ctx.stack.redisClient),
    suiteRss: process.memoryUsage().rss,
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Resident memory of every process in a process group, from /proc. */
function groupRss(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      total += Number(rss ?? 0) * 1024;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
}

function retryFigures(ctx: ScenarioContext): Record<string, number> {
  let retried = 0;
  for (const record of ctx.stack.proxy.records().values()) if (record.deliveries > 1) retried++;
  return { messages_retried: retried };
}
