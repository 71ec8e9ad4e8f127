// `npm run bench:ingress`: the ingest gateway under load on loopback. Starts the local stack
// (Redis, the Pub/Sub emulator, the BigQuery and GCS stand-ins), builds the functions as a deploy
// would and serves ingestGateway (and, for the wait=true phase, processTelemetry with its push
// subscription) under functions-framework, each in its own process. Three phases, each bounded in
// time and in requests: signed batches of 1 reading, of 100 readings, and single readings with
// ?wait=true through the whole pipeline. Progress on stderr; a table and one `INGRESS {json}`
// line on stdout.
//
//   npm run bench:ingress -- [--seconds 8] [--connections 16] [--max-requests 40000]

import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTIONS, type RunningFunction, startFunction } from '../local/servers/function-servers.js';
import { startLocalStack } from '../local/servers/local-stack.js';
import { createPipelineResources } from '../local/servers/pipeline-resources.js';
import { createBigQueryClient, createBigQueryFeatureSink } from '../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../shared/adapters/pubsub-publisher.js';
import { loadConfig } from '../shared/config.js';
import { TELEMETRY_ROUTE } from '../shared/ingress/request-signature.js';
import {
  benchReading,
  type IngressPhaseResult,
  runIngressPhase,
  type SignedBody,
  signBody,
} from './ingress-load.js';
import { buildFunctions } from './online-http.js';

process.env.METADATA_SERVER_DETECTION ??= 'none';

const FLEET_SECRET = 'bench-fleet-secret-0123456789abcdef0123456789abcdef';
const VEHICLES = 500;

interface Options {
  seconds: number;
  connections: number;
  waitConnections: number;
  maxRequests: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '16' },
      'wait-connections': { type: 'string', default: '16' },
      'max-requests': { type: 'string', default: '40000' },
    },
  });
  const options = {
    seconds: Number(values.seconds),
    connections: Number(values.connections),
    waitConnections: Number(values['wait-connections']),
    maxRequests: Number(values['max-requests']),
  };
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  }
  if (options.seconds > 60) throw new Error('--seconds is at most 60 per phase');
  return options;
}

const ms2 = (v: number) => Math.round(v * 100) / 100;
const log = (line: string) => process.stderr.write(`[bench:ingress] ${line}\n`);
const vehicleId = (i: number) => `bench-gw-${String(i % VEHICLES).padStart(4, '0')}`;

/** Bodies of `batch` readings each, one vehicle per body, distinct instants, signed now. */
function bodies(count: number, batch: number, startMs: number): SignedBody[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, k) => {
    const vehicle = vehicleId(k);
    // The k-th body of a vehicle holds its readings k*batch .. k*batch+batch-1, 10 ms apart.
    const first = Math.floor(k / VEHICLES) * batch;
    const readings = Array.from({ length: batch }, (_, i) =>
      benchReading(vehicle, startMs + (first + i) * 10, first + i),
    );
    return signBody(FLEET_SECRET, vehicle, batch === 1 ? readings[0] : { readings }, now);
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const repoRoot = resolve(import.meta.dirname, '..');
  const dataDir = join(repoRoot, '.local', 'bench-ingress');
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const stack = await startLocalStack({
      dataDir: join(dataDir, 'stack'),
      projectId: 'fleet-features-bench',
      onProgress: log,
    });
    stops.push(() => stack.stop());
    log('building the functions (as npm run build)');
    await buildFunctions(repoRoot, join(dataDir, 'build'));
    const env = {
      ...stack.env,
      INGEST_FLEET_SECRET: FLEET_SECRET,
      INGEST_RATE_PER_S: '1000000',
      INGEST_BURST: '1000000',
      LOG_LEVEL: 'warn',
    };
    const config = loadConfig(env);
    const pubsub = createPubSubClient(config);
    stops.push(() => pubsub.close());
    await pubsub.topic(config.topics.telemetry).get({ autoCreate: true });
    const start = (target: string): Promise<RunningFunction> => {
      const spec = FUNCTIONS.find((f) => f.target === target);
      if (spec === undefined)
        throw new Error(`${target} is not in local/servers/function-servers.ts FUNCTIONS`);
      return startFunction({ spec, repoRoot: join(dataDir, 'build'), logDir: join(dataDir, 'logs'), env });
    };
    const gateway = await start('ingestGateway');
    stops.push(() => gateway.group.stop({ graceMs: 2000 }));
    log(`ingestGateway at ${gateway.url}${TELEMETRY_ROUTE}`);

    const phases: IngressPhaseResult[] = [];
    const eventStart = Date.now() - 240_000;
    // Warm-up: JIT, connections to Redis and Pub/Sub, keep-alive sockets.
    await runIngressPhase({
      name: 'warm-up',
      url: gateway.url,
      bodies: bodies(2000, 1, eventStart - 60_000),
      readingsPerRequest: 1,
      connections: options.connections,
      seconds: 2,
      maxRequests: 5000,
      wait: false,
    });
    for (const batch of [1, 100]) {
      log(`phase: batches of ${batch}, ${options.connections} connections, ${options.seconds} s`);
      phases.push(
        await runIngressPhase({
          name: `batch ${batch}`,
          url: gateway.url,
          bodies: bodies(batch === 1 ? 20_000 : 2_000, batch, eventStart),
          readingsPerRequest: batch,
          connections: options.connections,
          seconds: options.seconds,
          maxRequests: options.maxRequests,
          wait: false,
        }),
      );
    }

    log('starting processTelemetry and its push subscription for the wait=true phase');
    const feature = await start('processTelemetry');
    stops.push(() => feature.group.stop({ graceMs: 2000 }));
    await createBigQueryFeatureSink(config, {}, createBigQueryClient(config)).ensureTable();
    await createPipelineResources({
      pubsub,
      storage: createStorageClient(config),
      config: config,
      processTelemetryUrl: feature.url,
    });
    const waitRequests = Math.min(options.maxRequests, 6000);
    log(`phase: wait=true, single readings, ${options.waitConnections} connections, ${options.seconds} s`);
    // Every wait body is a reading never sent before (a re-send would settle as a duplicate at once).
    const waitBodies = bodies(waitRequests, 1, Date.now() - 120_000);
    const waited = await runIngressPhase({
      name: 'wait=true',
      url: gateway.url,
      bodies: waitBodies,
      readingsPerRequest: 1,
      connections: options.waitConnections,
      seconds: options.seconds,
      maxRequests: waitRequests,
      wait: true,
    });
    phases.push(waited);

    // How often the gateway caught the row before it became durable (and left Redis), unloaded.
    const probe = bodies(VEHICLES * 2, 1, Date.now() - 30_000).slice(VEHICLES, VEHICLES + 40);
    let rows = 0;
    const probeLatencies: number[] = [];
    for (const signed of probe) {
      const started = performance.now();
      const response = await fetch(`${gateway.url}${TELEMETRY_ROUTE}?wait=true`, {
        method: 'POST',
        ...signed,
      });
      const answer = (await response.json()) as { rows?: unknown[] };
      probeLatencies.push(performance.now() - started);
      rows += answer.rows?.length ?? 0;
    }
    probeLatencies.sort((a, b) => a - b);

    const report = {
      connections: options.connections,
      seconds: options.seconds,
      batch1: {
        readings_per_s: Math.round(phases[0]!.acceptedReadingsPerS),
        requests_per_s: Math.round(phases[0]!.accepted / phases[0]!.seconds),
        p99_ms: ms2(phases[0]!.p99Ms),
        p50_ms: ms2(phases[0]!.p50Ms),
      },
      batch100: {
        readings_per_s: Math.round(phases[1]!.acceptedReadingsPerS),
        requests_per_s: Math.round(phases[1]!.accepted / phases[1]!.seconds),
        p99_ms: ms2(phases[1]!.p99Ms),
        p50_ms: ms2(phases[1]!.p50Ms),
      },
      wait: {
        readings_per_s: Math.round(waited.acceptedReadingsPerS),
        p99_ms: ms2(waited.p99Ms),
        p50_ms: ms2(waited.p50Ms),
        connections: options.waitConnections,
        complete: waited.complete,
        timed_out: waited.timedOut,
        unloaded_p50_ms: Math.round(probeLatencies[Math.floor(probeLatencies.length / 2)]! * 10) / 10,
        rows_returned: `${rows}/${probe.length}`,
      },
      failures: Object.fromEntries(phases.map((p) => [p.name, p.failures])),
    };
    const table = [
      'phase        conn  requests  accepted  readings/s     p50 ms   p99 ms   other',
      ...phases.map((p) =>
        [
          p.name.padEnd(12),
          String(p.connections).padStart(4),
          String(p.requests).padStart(9),
          String(p.accepted).padStart(9),
          String(Math.round(p.acceptedReadingsPerS)).padStart(11),
          p.p50Ms.toFixed(2).padStart(10),
          p.p99Ms.toFixed(2).padStart(8),
          `   ${JSON.stringify(p.failures)}${p.complete === undefined ? '' : ` applied ${p.complete}, timed out ${p.timedOut}`}`,
        ].join(' '),
      ),
      `wait=true unloaded (one at a time): p50 ${report.wait.unloaded_p50_ms} ms, rows returned ${report.wait.rows_returned}`,
    ];
    process.stdout.write(`\n${table.join('\n')}\nINGRESS ${JSON.stringify(report)}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:ingress failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
