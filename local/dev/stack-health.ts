// Health of a running dev stack, sampled as `npm run dev` samples it: what landed (DevProgress, through
// the official clients) and the feature function's freshness lines (its log file). Hands the sampler
// to the stack, so the dashboard shows it. Tests that need health start it the same way.

import { DevProgress } from './dev-progress.js';
import type { DevStack } from './dev-stack.js';
import { FreshnessLogReader } from './freshness-log-reader.js';
import { PipelineHealthSampler } from './pipeline-health-sampler.js';

export function startStackHealth(
  dev: DevStack,
  options: {
    /** The simulator's --speedup; 1 when devices send wall-clock event times. */
    eventClockSpeedup?: number;
    /** The terminal progress bar (npm run dev with the simulator). */
    bar: boolean;
    cleanups: (() => Promise<unknown>)[];
  },
): { progress: DevProgress; health: PipelineHealthSampler } {
  const progress = new DevProgress({
    bigquery: dev.bigquery,
    storage: dev.storage,
    config: dev.config,
    pubsub: dev.pubsub,
    watchSubscription: dev.subscriptions.deadLetterWatch,
    archivePending: () => ({
      features: dev.archiveWriters.features.stats().pendingMessages,
      raw: dev.archiveWriters.raw.stats().pendingMessages,
    }),
  });
  options.cleanups.push(() => progress.stop());
  const processTelemetry = dev.functions.find((f) => f.target === 'processTelemetry')!;
  const health = new PipelineHealthSampler({
    progress,
    freshness: new FreshnessLogReader(processTelemetry.group.logPath),
    eventClockSpeedup: options.eventClockSpeedup ?? 1,
  });
  options.cleanups.push(async () => health.stop());
  dev.health = health;
  progress.start({ bar: options.bar });
  health.start();
  return { progress, health };
}
