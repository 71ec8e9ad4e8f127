import cliProgress from 'cli-progress';

/** Where the bench reports what it is doing: stderr for the CLI, nothing in tests. */
export interface BenchProgress {
  log(line: string): void;
  /** A counted phase; `update` with the number done so far, `stop` when finished. */
  phase(name: string, total: number): { update(done: number): void; stop(): void };
}

export const silentProgress: BenchProgress = {
  log: () => {},
  phase: () => ({ update: () => {}, stop: () => {} }),
};

/** Phase lines on stderr, and progress bars unless `bars` is false. */
export function stderrProgress(bars = true): BenchProgress {
  return {
    log: (line) => process.stderr.write(`${line}\n`),
    phase(name, total) {
      if (!bars) return silentProgress.phase(name, total);
      const bar = new cliProgress.SingleBar(
        {
          format: `${name.padEnd(14)} [{bar}] {percentage}% {value}/{total} {rate}/s`,
          stream: process.stderr,
          // Without a terminal (CI, a pipe), a plain line every few seconds instead of a bar.
          noTTYOutput: true,
          notTTYSchedule: 3_000,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      const started = performance.now();
      bar.start(total, 0, { rate: 0 });
      return {
        update: (done) =>
          bar.update(done, { rate: Math.round(done / ((performance.now() - started) / 1000)) }),
        stop: () => bar.stop(),
      };
    },
  };
}
