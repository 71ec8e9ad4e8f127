// `npm run bench`: the feature-engine benchmark. Progress on stderr; the table and one
// `BENCH {json}` line on stdout. See bench/run-bench.ts for the phases.

import { BENCH_USAGE, BenchUsageError, parseBenchArgs } from './bench-options.js';
import { stderrProgress } from './bench-progress.js';
import { benchLine, formatReport } from './bench-report.js';
import { runBench } from './run-bench.js';

// The sink phase drives the Google clients against local stand-ins: like the tests (vitest.config.ts),
// they must never probe the GCE metadata server for credentials or a project.
process.env.METADATA_SERVER_DETECTION ??= 'none';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${BENCH_USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const progress = stderrProgress(parsed.options.progress);
  const result = await runBench(parsed.options, progress);
  process.stdout.write(`\n${formatReport(result)}\n${benchLine(result)}\n`);
  return 0;
}

// The private redis-server is stopped by runBench's finally, and on Ctrl-C by the process-group
// exit hooks of local/servers.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
