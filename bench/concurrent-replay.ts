/**
 * Replays items through an async call with a fixed number of calls in flight (like a function
 * instance with that much concurrency), timing each call with the monotonic clock. Items are
 * started in order, so readings of one vehicle keep their delivery order unless they overlap.
 */
export interface ReplayTiming {
  elapsedMs: number;
  /** Per-call latency in ms, in completion order. */
  latenciesMs: Float64Array;
}

export interface ReplayOptions {
  concurrency: number;
  /** Called about every `progressEvery` completions with the number completed so far. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

export async function replayConcurrently<T>(
  items: readonly T[],
  call: (item: T) => Promise<unknown>,
  options: ReplayOptions,
): Promise<ReplayTiming> {
  const latenciesMs = new Float64Array(items.length);
  const progressEvery = options.progressEvery ?? 10_000;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      const started = process.hrtime.bigint();
      await call(item);
      latenciesMs[done++] = Number(process.hrtime.bigint() - started) / 1e6;
      if (options.onProgress && done % progressEvery === 0) options.onProgress(done);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, items.length) }, worker));
  return { elapsedMs: Number(process.hrtime.bigint() - started) / 1e6, latenciesMs };
}

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarizeLatencies(latenciesMs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  // Nearest rank.
  const at = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  return { p50Ms: at(50), p99Ms: at(99), maxMs: sorted[sorted.length - 1] ?? Number.NaN };
}
