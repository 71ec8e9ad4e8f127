/**
 * Makes `count` calls (call(0), call(1), ...) with a fixed number in flight (like a function
 * instance with that much concurrency), timing each with the monotonic clock. Calls start in
 * index order, so readings of one vehicle keep their delivery order unless they overlap.
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

export async function replayConcurrently(
  count: number,
  call: (index: number) => Promise<unknown>,
  options: ReplayOptions,
): Promise<ReplayTiming> {
  const latenciesMs = new Float64Array(count);
  const progressEvery = options.progressEvery ?? 10_000;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const started = process.hrtime.bigint();
      await call(index);
      latenciesMs[done++] = Number(process.hrtime.bigint() - started) / 1e6;
      if (options.onProgress && done % progressEvery === 0) options.onProgress(done);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, worker));
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
  const at = (p: number) =>
    sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  return { p50Ms: at(50), p99Ms: at(99), maxMs: sorted[sorted.length - 1] ?? Number.NaN };
}
