// TEMP profiling harness (deleted before hand-off): the ceiling with a Lua variant from a file.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../local/servers/redis-server.js';
import { applyScriptCall } from '../shared/adapters/redis-window-store.js';
import { APPLY_READINGS_LUA } from '../shared/adapters/window-script.js';
import { loadConfig } from '../shared/config.js';
import { generateFleetReplay } from './fleet-generator.js';
import { skipReply } from './redis-ceiling.js';
import { commandStat, readInfo, redisCpuSeconds } from './redis-info.js';

const lua = process.env.LUA ? await readFile(process.env.LUA, 'utf8') : APPLY_READINGS_LUA;
const sha = createHash('sha1').update(lua).digest('hex');
const vehicles = Number(process.argv[2] ?? 10000);
const seconds = Number(process.argv[3] ?? 10);
const store = loadConfig({}).engine;
const fleet = generateFleetReplay({ vehicles, seconds, duplicateRate: 0.05, outOfOrderRate: 0.02, seed: 1, startMs: Date.UTC(2026, 2, 1), idPrefix: 'v' });
function enc(parts: (string | number | Buffer)[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const p of parts) { const b = Buffer.isBuffer(p) ? p : Buffer.from(String(p)); chunks.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')); }
  return Buffer.concat(chunks);
}
const PIPE = 128;
const pipes: Buffer[] = [];
for (let i = 0; i < fleet.items.length; i += PIPE) {
  pipes.push(Buffer.concat(fleet.items.slice(i, i + PIPE).map(({ reading, nowMs }) => {
    const c = applyScriptCall(reading.vehicle_id, [{ eventId: reading.event_id, reading }], nowMs, store);
    return enc(['EVALSHA', sha, 3, ...c.keys, ...c.args]);
  })));
}
const dir = await mkdtemp(join(tmpdir(), 'prof-'));
const server = await startRedis({ dir });
const admin = new Redis(server.url);
try {
  await admin.script('LOAD', lua);
  for (let rep = 0; rep < Number(process.env.REPEAT ?? 3); rep++) {
    await admin.flushall('SYNC');
    await admin.config('RESETSTAT');
    const cpu0 = await redisCpuSeconds(admin);
    const socket = createConnection({ host: '127.0.0.1', port: server.port });
    await new Promise((r) => socket.once('connect', r));
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      let sent = 0, replies = 0; let pending = Buffer.alloc(0);
      const more = () => { while (sent < pipes.length && sent * PIPE - replies < 8 * PIPE) socket.write(pipes[sent++]!); };
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let pos = 0;
        try { for (;;) { const e = skipReply(pending, pos); if (e < 0) break; pos = e; replies++; } } catch (e) { reject(e); return; }
        pending = pending.subarray(pos);
        if (replies >= fleet.items.length) resolve(); else more();
      });
      more();
    });
    const ms = performance.now() - t0;
    socket.destroy();
    const cpu = (await redisCpuSeconds(admin)) - cpu0;
    const st = commandStat(await readInfo(admin, 'commandstats'), 'evalsha');
    const mem = Number((await readInfo(admin, 'memory')).get('used_memory'));
    console.log(JSON.stringify({ rps: Math.round(fleet.items.length / (ms / 1000)), usecPerCall: st?.usecPerCall, redisCpuUs: ((cpu * 1e6) / fleet.items.length).toFixed(1), memPerVehicle: Math.round(mem / vehicles) }));
  }
  if (process.env.DUMP) {
    const s = await admin.hgetBuffer('fv:{v1}', 's');
    console.log('state bytes', s?.length);
  }
} finally {
  admin.disconnect();
  await server.stop();
}
