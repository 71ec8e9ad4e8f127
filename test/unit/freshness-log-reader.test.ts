// The local stack reads the feature function's freshness lines from its log file as it grows:
// lines of any instance merge, other lines and a line still being written are left alone.
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FreshnessLogReader } from '../../local/dev/freshness-log-reader.js';
import { FreshnessReport } from '../../shared/freshness/freshness-report.js';
import { createLogger } from '../../shared/logger.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The line one instance writes for rows durable `latenciesMs` after their publish. */
function freshnessLine(latenciesMs: number[]): string {
  let line = '';
  const logger = createLogger({ destination: { write: (text: string) => (line += text) } });
  const report = new FreshnessReport(logger, { intervalMs: 1000 });
  for (const ms of latenciesMs) report.durable([0], 0, ms);
  report.readings({ applied: latenciesMs.length, duplicates: 0, conflicts: 0, late: 1, rejected: 0 });
  report.flush();
  return line;
}

describe('FreshnessLogReader', () => {
  it('merges the lines appended since its last read, across instances, and waits for a line to end', async () => {
    dir = await mkdtemp(join(tmpdir(), 'freshness-log-'));
    const path = join(dir, 'function-process-telemetry.log');
    const reader = new FreshnessLogReader(path);
    await reader.read(); // no file yet: nothing, no error
    expect(reader.summary().publish_to_durable).toEqual({ count: 0, p50Ms: null, p99Ms: null });

    const first = freshnessLine([100, 100, 100]);
    const second = freshnessLine([1000]);
    await appendFile(path, `{"severity":"INFO","message":"Serving function..."}\nnot json\n${first}`);
    await appendFile(path, second.slice(0, 40));
    await reader.read();
    expect(reader.summary().publish_to_durable).toMatchObject({ count: 3, p50Ms: 100, p99Ms: 100 });

    await appendFile(path, second.slice(40));
    await reader.read();
    const summary = reader.summary().publish_to_durable;
    expect(summary.count).toBe(4);
    // The 1000 ms row, read from its bucket: within 9%.
    expect(summary.p99Ms).toBeGreaterThanOrEqual(1000 / 2 ** (1 / 8));
    expect(summary.p99Ms).toBeLessThanOrEqual(1000);
    expect(reader.readings()).toMatchObject({ applied: 4, late: 2 });
  });
});
