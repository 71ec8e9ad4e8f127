import { DuckDBInstance } from '@duckdb/node-api';
import { generateReplayStream } from './test/helpers/replay-stream.js';
import * as m from './test/helpers/window-recomputation.js';
// crude profile: monkeypatch connection.run to time statements
const orig = (await import('@duckdb/node-api')).DuckDBConnection.prototype;
for (const name of ['run', 'runAndReadAll'] as const) {
  const f = (orig as any)[name];
  (orig as any)[name] = async function (sql: string, ...rest: any[]) {
    const parts = name === 'run' && sql.includes('CREATE TABLE arrivals AS') ? sql.split(/;\s*\n/).filter((s: string) => s.trim()) : [sql];
    let res;
    for (const p of parts) { const t0 = performance.now(); res = await f.call(this, p, ...rest); const ms = performance.now() - t0; if (ms > 100) console.log(Math.round(ms), p.trim().replace(/\s+/g, ' ').slice(0, 90)); }
    return res;
  };
}
const arrivals = generateReplayStream({ seed: 20260301, vehicles: 12, durationS: 7500, startMs: Date.UTC(2026,2,1,6), allowedLatenessMs: 600000 });
const { WINDOWS } = await import('./shared/windows/window-spec.js');
const t0 = performance.now();
await m.recomputeWindows(arrivals.map(a => ({ seq: a.seq, nowMs: (Math.floor(a.arrivalMs/10000)+1)*10000, reading: a.reading })), WINDOWS, 600000);
console.log('total', Math.round(performance.now() - t0));
