import { createHash } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import {
  applyScriptCall,
  pendingField,
  type RedisWindowStoreOptions,
} from '../shared/adapters/redis-window-store.js';
import { APPLY_READINGS_LUA } from '../shared/windows/apply-readings-script.js';
import type { FleetReplay } from './fleet-generator.js';

/**
 * The physical limit: the engine's own script, with the very arguments the engine would send for
 * the same replay, each followed by the HDEL that markDurable sends once the reading's row is
 * durable, encoded up front and written to Redis over a raw socket in deep pipelines. Node only
 * writes bytes and counts replies, so Redis (one core) is the bottleneck and the rate is what one
 * Redis can apply with this script, networking and command parsing included.
 *
 * This is the figure reported as redis_ceiling_readings_per_s. The other view of the same limit,
 * 1e6 / usec_per_call of the script from INFO commandstats during the engine run, counts only time
 * inside the script (no I/O, no parsing) and so overstates what Redis can serve; it is reported
 * alongside as redis_script_usec_per_call.
 */
export interface CeilingResult {
  readings: number;
  elapsedMs: number;
  readingsPerS: number;
}

/** Readings per pipeline; each is two commands (EVALSHA, HDEL), so two replies. */
const PIPELINE_COMMANDS = 128;
const REPLIES_PER_READING = 2;
const PIPELINES_IN_FLIGHT = 8;

/** RESP array of bulk strings: how any client sends a command. */
function encodeCommand(parts: (string | number | Buffer)[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const part of parts) {
    const bytes = Buffer.isBuffer(part) ? part : Buffer.from(String(part));
    chunks.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(chunks);
}

export function scriptSha(): string {
  return createHash('sha1').update(APPLY_READINGS_LUA).digest('hex');
}

/**
 * End offset of the RESP reply starting at `pos`, or -1 when `buf` does not hold all of it yet.
 * Throws on an error reply (e.g. NOSCRIPT): the ceiling run must not count failures as work.
 */
export function skipReply(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd < 0) return -1;
  const type = String.fromCharCode(buf[pos]!);
  const header = buf.toString('latin1', pos + 1, lineEnd);
  let end = lineEnd + 2;
  switch (type) {
    case '+':
    case ':':
      return end;
    case '-':
      throw new Error(`redis replied with an error: ${header}`);
    case '$': {
      const length = Number(header);
      if (length < 0) return end;
      end += length + 2;
      return end <= buf.length ? end : -1;
    }
    case '*': {
      const count = Number(header);
      for (let i = 0; i < count; i++) {
        end = skipReply(buf, end);
        if (end < 0) return -1;
      }
      return end;
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

function connect(port: number, host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export async function runCeiling(
  redisUrl: string,
  fleet: FleetReplay,
  options: { store: RedisWindowStoreOptions; onProgress?: (done: number) => void },
): Promise<CeilingResult> {
  const { hostname, port } = new URL(redisUrl);
  const sha = scriptSha();
  // Encoded before the clock starts: argument packing is Node-side work, not Redis's.
  const pipelines: Buffer[] = [];
  for (let first = 0; first < fleet.length; first += PIPELINE_COMMANDS) {
    const commands: Buffer[] = [];
    for (let i = first; i < Math.min(fleet.length, first + PIPELINE_COMMANDS); i++) {
      const reading = fleet.reading(i);
      const inputs = [{ eventId: reading.event_id, reading }];
      const call = applyScriptCall(reading.vehicle_id, inputs, fleet.nowMs(i), options.store);
      commands.push(encodeCommand(['EVALSHA', sha, call.keys.length, ...call.keys, ...call.args]));
      commands.push(encodeCommand(['HDEL', call.keys[0], pendingField(reading.event_ts_ms)]));
    }
    pipelines.push(Buffer.concat(commands));
  }
  const socket = await connect(Number(port), hostname);
  try {
    // Loaded on this connection's server before timing; EVALSHA then never falls back to EVAL.
    socket.write(encodeCommand(['SCRIPT', 'LOAD', APPLY_READINGS_LUA]));
    await new Promise<void>((resolve, reject) => {
      let reply = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        reply = Buffer.concat([reply, chunk]);
        try {
          if (skipReply(reply, 0) < 0) return;
        } catch (error) {
          reject(error);
          return;
        }
        socket.off('data', onData);
        resolve();
      };
      socket.on('data', onData);
    });

    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      let replies = 0;
      let pending: Buffer = Buffer.alloc(0);
      const sendMore = (): void => {
        while (
          sent < pipelines.length &&
          sent * PIPELINE_COMMANDS * REPLIES_PER_READING - replies <
            PIPELINES_IN_FLIGHT * PIPELINE_COMMANDS * REPLIES_PER_READING
        ) {
          socket.write(pipelines[sent++]!);
        }
      };
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let pos = 0;
        try {
          for (;;) {
            const end = skipReply(pending, pos);
            if (end < 0) break;
            pos = end;
            replies++;
            if (options.onProgress && replies % 20_000 === 0)
              options.onProgress(replies / REPLIES_PER_READING);
          }
        } catch (error) {
          reject(error);
          return;
        }
        pending = pending.subarray(pos);
        if (replies >= fleet.length * REPLIES_PER_READING) resolve();
        else sendMore();
      });
      sendMore();
    });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    return { readings: fleet.length, elapsedMs, readingsPerS: fleet.length / (elapsedMs / 1000) };
  } finally {
    socket.destroy();
  }
}
