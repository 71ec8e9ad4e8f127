import { generateReplayStream } from './test/helpers/replay-stream.js';
import { recomputeWindows } from './test/helpers/window-recomputation.js';
import { WINDOWS } from './shared/windows/window-spec.js';
let t0 = performance.now();
const arrivals = generateReplayStream({ seed: 20260301, vehicles: 12, durationS: 7500, startMs: Date.UTC(2026,2,1,6), allowedLatenessMs: 600000 });
console.log('gen', arrivals.length, Math.round(performance.now() - t0)); t0 = performance.now();
const r = await recomputeWindows(arrivals.map(a => ({ seq: a.seq, nowMs: (Math.floor(a.arrivalMs/10000)+1)*10000, reading: a.reading })), WINDOWS, 600000);
console.log('recompute', Math.round(performance.now() - t0));
