// npm run dev --via-gateway: the simulator's topic sends a stable share of the vehicles through
// the ingest gateway (signed POSTs) and the rest, and every malformed message, to Pub/Sub.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fleetTopic, LOCAL_FLEET_SECRET } from '../../local/simulator/gateway-publisher.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { verifyRequestSignature } from '../../shared/ingress/request-signature.js';
import { reading } from '../helpers/ingress-fakes.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

const suffix = randomBytes(4).toString('hex');
let pubsub: PubSub;
let server: Server;
let url = '';
const posted: { vehicle: string; body: string; verified: boolean }[] = [];
const direct: string[] = [];
let failNext = 0;

beforeAll(async () => {
  const local = localServers();
  pubsub = createPubSubClient({ projectId: local.projectId, pubsubEmulatorHost: local.pubsubEmulatorHost });
  const [topic] = await pubsub.topic(`split-${suffix}`).get({ autoCreate: true });
  const [subscription] = await topic.createSubscription(`split-${suffix}-watch`);
  subscription.on('message', (message: Message) => {
    direct.push(message.data.toString());
    message.ack();
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end('{}');
        return;
      }
      const body = Buffer.concat(chunks);
      const header = (name: string) => req.headers[name] as string | undefined;
      const check = verifyRequestSignature({
        headers: {
          deviceId: header('x-device-id'),
          timestamp: header('x-timestamp'),
          signature: header('x-signature'),
        },
        body,
        fleetSecrets: [LOCAL_FLEET_SECRET],
        nowMs: Date.now(),
        maxSkewMs: 300_000,
      });
      posted.push({ vehicle: header('x-device-id') ?? '', body: body.toString(), verified: check.ok });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await pubsub.close();
});

it('routes a stable share of the vehicles through the gateway, signed, and the rest to Pub/Sub', async () => {
  const topic = fleetTopic(pubsub, `split-${suffix}`, [{ target: 'ingestGateway', url }], 0.5);
  const vehicles = Array.from({ length: 40 }, (_, i) => `split-${i}`);
  const bodies = vehicles.map((v) => JSON.stringify({ readings: [reading(v, 2), reading(v, 1)] }));
  failNext = 1; // the first POST is told to come back later: it is retried after Retry-After
  await Promise.all(bodies.map((b) => topic.publishMessage({ data: Buffer.from(b) })));
  await topic.publishMessage({ data: Buffer.from('{"vehicle_id": "broken"') });
  await waitUntil(() => posted.length + direct.length === 41, { what: 'every message somewhere' });

  expect(posted.every((p) => p.verified)).toBe(true);
  expect(posted.length).toBeGreaterThan(8);
  expect(direct.length).toBeGreaterThan(8);
  expect([...posted.map((p) => p.body), ...direct].sort()).toEqual(
    [...bodies, '{"vehicle_id": "broken"'].sort(),
  );
  // Stable: the same vehicles take the gateway on a second round.
  const first = new Set(posted.map((p) => p.vehicle));
  posted.length = 0;
  await Promise.all(bodies.map((b) => topic.publishMessage({ data: Buffer.from(b) })));
  expect(new Set(posted.map((p) => p.vehicle))).toEqual(first);
});
