import autocannon from 'autocannon';
import { deriveDeviceKey, signRequest, TELEMETRY_ROUTE } from '../shared/ingress/request-signature.js';
import { summarizeLatencies } from './concurrent-replay.js';

/**
 * One load phase against the ingest gateway: autocannon on loopback, bounded in time and in
 * requests, each request a pre-signed body taken in turn from a pool. Latency is timed per
 * response (autocannon's own histogram has 1 ms resolution).
 */
export interface IngressPhaseResult {
  name: string;
  readingsPerRequest: number;
  connections: number;
  requests: number;
  /** Answers 200 or 202. */
  accepted: number;
  acceptedReadingsPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  seconds: number;
  /** Other answers by status (e.g. 429, 503), and socket errors and timeouts. */
  failures: Record<string, number>;
  /** wait=true: answers 200 (applied before the timeout) and 202 (timed out). */
  complete?: number;
  timedOut?: number;
}

export interface SignedBody {
  body: string;
  headers: Record<string, string>;
}

/** A reading of the bench fleet: plausible values, distinct instants per vehicle. */
export function benchReading(vehicleId: string, eventTsMs: number, i: number) {
  return {
    vehicle_id: vehicleId,
    timestamp: eventTsMs,
    speed_kmh: 30 + (i % 90),
    engine_temp_c: 85 + (i % 15),
    gps_lat: 48.1 + (i % 1000) * 1e-5,
    gps_lon: 11.5,
  };
}

export function signBody(
  fleetSecret: string,
  vehicleId: string,
  payload: unknown,
  nowMs: number,
): SignedBody {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...signRequest({
        deviceKey: deriveDeviceKey(fleetSecret, vehicleId),
        deviceId: vehicleId,
        body: Buffer.from(body),
        nowMs,
      }),
    },
  };
}

export async function runIngressPhase(options: {
  name: string;
  url: string;
  bodies: readonly SignedBody[];
  readingsPerRequest: number;
  connections: number;
  seconds: number;
  maxRequests: number;
  wait: boolean;
}): Promise<IngressPhaseResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  let answered = 0;
  let complete = 0;
  let timedOut = 0;
  const path = `${TELEMETRY_ROUTE}${options.wait ? '?wait=true' : ''}`;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const signed = options.bodies[next++ % options.bodies.length]!;
          return { ...request, path, headers: signed.headers, body: signed.body };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    answered++;
    if (statusCode === 200 || statusCode === 202) latencies.push(responseTimeMs);
    else failures[statusCode] = (failures[statusCode] ?? 0) + 1;
    if (statusCode === 200) complete++;
    if (statusCode === 202 && options.wait) timedOut++;
    if (answered >= options.maxRequests) instance.stop();
  });
  const result = await instance;
  if (result.errors > 0) failures.errors = result.errors;
  if (result.timeouts > 0) failures.timeouts = result.timeouts;
  const seconds = result.duration;
  return {
    name: options.name,
    readingsPerRequest: options.readingsPerRequest,
    connections: options.connections,
    requests: answered,
    accepted: latencies.length,
    acceptedReadingsPerS: (latencies.length * options.readingsPerRequest) / seconds,
    ...summarizeLatencies(Float64Array.from(latencies)),
    seconds,
    failures,
    ...(options.wait ? { complete, timedOut } : {}),
  };
}
