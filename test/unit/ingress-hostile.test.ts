// Hostile input against the gateway's HTTP surface, in process (hono app.request, in-memory ports):
// at least 10,000 generated requests of random bytes, deep nesting, huge numbers, unicode, wrong
// or stale signatures, prototype keys, header values that try to smuggle more headers, mutated
// valid batches, readings for other vehicles. Whatever comes in: the gateway answers (never
// throws), answers JSON with a documented status and code, answers 5xx only with the documented
// 503s (when a backend is down), leaks no secret or stack, and publishes only valid readings of
// the authenticated device, exactly as many as it says it accepted.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetError } from '../../shared/errors.js';
import { createIngressApp } from '../../shared/ingress/ingress-app.js';
import { parseTelemetryMessage } from '../../shared/telemetry/index.js';
import {
  CODES,
  REFUSALS,
  requestArb,
  SUCCESS,
  signatureHeaders,
} from '../helpers/hostile-ingress-requests.js';
import {
  fakeIngestDeps,
  MemoryTokenBucket,
  RecordingPublisher,
  TEST_FLEET_SECRET,
} from '../helpers/ingress-fakes.js';

const NOW = Date.now();
/** Generated requests; some carry a header no HTTP stack would pass on and are not sent (see below). */
const RUNS = 15_000;
const AT_LEAST_SENT = 10_000;

let sent = 0;
let published = 0;
const statuses = new Map<number, number>();

afterAll(() => {
  // Visible in the test output: what the fuzzer reached.
  console.log(
    `hostile requests: ${sent} sent, ${published} readings published; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
});

describe('hostile requests, in process', () => {
  it(`never crash, never 5xx but the documented 503s, never publish what is invalid or unauthenticated (${AT_LEAST_SENT}+ requests)`, async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const publisher = new RecordingPublisher();
        const deps = fakeIngestDeps({
          publisher,
          clock: () => NOW,
          rateLimiter: new MemoryTokenBucket(1, r.tightBucket ? 20 : 100_000, () => NOW),
        });
        if (r.backend === 'bucket_down')
          (deps.rateLimiter as MemoryTokenBucket).failWith = new FleetError('transient_redis', 'down');
        if (r.backend === 'pubsub_down') publisher.failWith = new FleetError('transient_sink', 'down');
        const bytes = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : Buffer.from(r.body);
        let headers: Headers;
        try {
          headers = new Headers({
            'content-type': r.contentType,
            ...signatureHeaders(r.sign, r.deviceHeader, bytes),
          });
          for (const [name, value] of r.extraHeaders) headers.append(name, value);
        } catch {
          return; // a header no HTTP stack would carry (CR, LF, NUL, non-Latin-1): refused before us
        }
        const hasBody = r.method !== 'GET';
        const request = new Request(`http://gateway.test${r.path}`, {
          method: r.method,
          headers,
          ...(hasBody ? { body: bytes } : {}),
        });
        sent++;
        const response = await createIngressApp(deps).fetch(request);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const text = await response.text();
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        const answer = JSON.parse(text) as { error?: { code: string }; accepted?: number };
        expect(text).not.toContain(TEST_FLEET_SECRET);
        expect(text).not.toMatch(/\n\s+at |FleetError|Error:/);

        if (response.status === 503) {
          expect(r.backend).not.toBe('up');
          expect(answer.error?.code).toBe(
            r.backend === 'bucket_down' ? 'rate_limiter_unavailable' : 'publish_unavailable',
          );
          expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        } else if (!SUCCESS.has(response.status)) {
          expect(REFUSALS).toContain(response.status);
          expect(CODES).toContain(answer.error?.code);
        }

        const readings = publisher.messages.flatMap((message) => {
          const parsed = parseTelemetryMessage(message.data, {
            nowMs: NOW,
            maxBytes: deps.limits.maxMessageBytes,
          });
          expect(parsed.rejects).toEqual([]);
          return parsed.readings;
        });
        published += readings.length;
        if (readings.length > 0) {
          expect(r.sign).toBe('valid');
          expect(SUCCESS).toContain(response.status);
          expect(readings.every((reading) => reading.vehicle_id === r.deviceHeader)).toBe(true);
          expect(publisher.messages.every((m) => m.attributes.device_id === r.deviceHeader)).toBe(true);
        }
        if (SUCCESS.has(response.status)) expect(answer.accepted).toBe(readings.length);
      }),
      { numRuns: RUNS },
    );
    expect(sent).toBeGreaterThanOrEqual(AT_LEAST_SENT);
    expect(published).toBeGreaterThan(0);
  }, 240_000);
});
