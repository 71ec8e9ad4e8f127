// Freshness and trace context on the real local stack (started as `npm run dev` starts it, the
// functions from the build output): readings published with a W3C traceparent, straight to Pub/Sub
// and through the ingest gateway, are followed into the feature function's log file by their trace
// id; a dead-lettered reading carries its trace onto the dead-letter message; an invalid traceparent
// changes nothing; and the health sampler reads freshness from the function's own log lines.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../local/dev/dev-stack.js';
import { freshnessLines } from '../../local/dev/dev-summary.js';
import type { PipelineHealthSampler } from '../../local/dev/pipeline-health-sampler.js';
import { startStackHealth } from '../../local/dev/stack-health.js';
import { postSigned } from '../../local/simulator/gateway-publisher.js';
import { formatTraceparent, parseTraceparent, startTrace } from '../../shared/tracing/trace-context.js';
import { waitUntil } from '../helpers/wait-until.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<unknown>)[] = [];
let dataDir = '';
let dev: DevStack;
let health: PipelineHealthSampler;
let functionLog = '';
const deadLetters: Message[] = [];

const direct = startTrace(true);
const viaGateway = startTrace(true);
const rejected = startTrace(true);
const now = Date.now();
const reading = (vehicle: string, secondsAgo: number) => ({
  vehicle_id: vehicle,
  timestamp: new Date(now - secondsAgo * 1000).toISOString(),
  speed_kmh: 42,
  engine_temp_c: 90,
  gps_lat: 48.137,
  gps_lon: 11.575,
});

/** The function's log entries that name a trace. */
async function tracedEntries(traceId: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(functionLog, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.includes(traceId))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fleet-features-freshness-'));
  dev = await startDevStack({ dataDir, repoRoot, allowedLatenessS: 600, log: () => {}, cleanups });
  functionLog = dev.functions.find((f) => f.target === 'processTelemetry')!.group.logPath;
  ({ health } = startStackHealth(dev, { bar: false, cleanups }));

  const [watch] = await dev.pubsub.topic(dev.config.topics.deadLetter).createSubscription('trace-test-dlq');
  watch.on('message', (message: Message) => {
    deadLetters.push(message);
    message.ack();
  });
  cleanups.push(() => watch.close());

  const topic = dev.pubsub.topic(dev.config.topics.telemetry);
  const publish = (payload: unknown, traceparent: string) =>
    topic.publishMessage({ data: Buffer.from(JSON.stringify(payload)), attributes: { traceparent } });
  await publish(reading('veh-trace-1', 2), formatTraceparent(direct));
  await publish(reading('veh-trace-2', 2), '00-not-a-trace-context-01');
  await publish({ ...reading('veh-trace-3', 2), speed_kmh: 999 }, formatTraceparent(rejected));
  await postSigned(
    { url: dev.functions.find((f) => f.target === 'ingestGateway')!.url },
    'veh-trace-4',
    Buffer.from(JSON.stringify(reading('veh-trace-4', 1))),
    formatTraceparent(viaGateway),
  );
}, 240_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('trace context from publish to the feature function', () => {
  it("puts a sampled reading's trace on the function's line for its message, straight or through the gateway", async () => {
    for (const trace of [direct, viaGateway]) {
      await waitUntil(async () => (await tracedEntries(trace.traceId)).length > 0, {
        what: `a log line with trace ${trace.traceId}`,
        timeoutMs: 60_000,
      });
      const [entry] = await tracedEntries(trace.traceId);
      expect(entry).toMatchObject({
        severity: 'INFO',
        message: 'telemetry message processed',
        'logging.googleapis.com/trace': `projects/${dev.config.projectId}/traces/${trace.traceId}`,
        'logging.googleapis.com/trace_sampled': true,
        applied: 1,
      });
      // The function's own span in the same trace.
      expect(entry!['logging.googleapis.com/spanId']).toMatch(/^[0-9a-f]{16}$/);
      expect(entry!['logging.googleapis.com/spanId']).not.toBe(trace.spanId);
    }
  }, 120_000);

  it('carries the trace of a refused reading onto its dead-letter message', async () => {
    await waitUntil(() => deadLetters.length > 0, { what: 'the dead-lettered reading', timeoutMs: 60_000 });
    expect(parseTraceparent(deadLetters[0]!.attributes.traceparent)?.traceId).toBe(rejected.traceId);
    expect(await tracedEntries(rejected.traceId)).toEqual([
      expect.objectContaining({ message: 'telemetry message processed', rejected: 1, applied: 0 }),
    ]);
  }, 90_000);
});

describe('freshness of a short run', () => {
  it('is read from the function log by the health sampler, for every row, and printed by the summary', async () => {
    await waitUntil(
      async () => {
        const sample = await health.sample();
        return sample.distinctRows >= 3 && sample.freshness.publishToDurable.count >= 3;
      },
      { what: 'three rows and their freshness', timeoutMs: 60_000 },
    );
    const { freshness, rows } = health.current();
    expect(rows).toBe(3); // the invalid traceparent did not cost its reading a row
    for (const latency of [
      freshness.eventToDurable,
      freshness.publishToDurable,
      freshness.eventToOnline!,
      freshness.publishToOnline!,
    ]) {
      expect(latency.count).toBe(3);
      expect(latency.p50Ms).not.toBeNull();
      expect(latency.p50Ms!).toBeLessThanOrEqual(latency.p99Ms!);
    }
    // A reading is online before its row is durable.
    expect(freshness.publishToOnline!.p50Ms!).toBeLessThanOrEqual(freshness.publishToDurable.p50Ms!);
    expect(health.history().length).toBeGreaterThan(1);
    expect(freshnessLines(freshness).join('\n')).toMatch(/publish → durable p50 \d.* p99 \d/);
  }, 90_000);
});
