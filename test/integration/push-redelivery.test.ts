// The local stack's push subscription (local/servers/pipeline-resources.ts) rides out an outage of
// the feature function: every message pushed while it answers 503 is pushed again once it is back,
// none is dead-lettered. (With a retryPolicy, the emulator stopped pushing a message after its
// second failed push, for good: a function restart in `npm run chaos` stalled the pipeline.)

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPipelineResources,
  type PipelineSubscriptions,
} from '../../local/servers/pipeline-resources.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

const suffix = randomBytes(4).toString('hex');
const OUTAGE_MS = 6_000;
let pubsub: PubSub;
let server: Server;
let subscriptions: PipelineSubscriptions;
let up = false;
const pushes = new Map<string, number>();
const acknowledged = new Set<string>();
const deadLettered: Message[] = [];

beforeAll(async () => {
  const local = localServers();
  pubsub = createPubSubClient({ projectId: local.projectId, pubsubEmulatorHost: local.pubsubEmulatorHost });
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const id = (JSON.parse(body) as { message: { messageId: string } }).message.messageId;
      pushes.set(id, (pushes.get(id) ?? 0) + 1);
      if (up) acknowledged.add(id);
      response.writeHead(up ? 204 : 503).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  subscriptions = await createPipelineResources({
    pubsub,
    storage: createStorageClient({ projectId: local.projectId, storageEmulatorHost: local.gcsStandinUrl }),
    config: {
      projectId: local.projectId,
      featuresBucket: `redelivery-${suffix}`,
      topics: {
        telemetry: `telemetry-raw-rd-${suffix}`,
        deadLetter: `telemetry-dlq-rd-${suffix}`,
        featureRows: `feature-rows-rd-${suffix}`,
        alerts: `alerts-rd-${suffix}`,
      },
    },
    processTelemetryUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  pubsub.subscription(subscriptions.deadLetterWatch).on('message', (message: Message) => {
    deadLettered.push(message);
    message.ack();
  });
});

afterAll(async () => {
  await pubsub?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the local push subscription', () => {
  it('pushes every message again after a function outage, and dead-letters none', async () => {
    const topic = pubsub.topic(`telemetry-raw-rd-${suffix}`);
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => topic.publishMessage({ data: Buffer.from(`{"n":${i}}`) })),
    );
    await waitUntil(() => ids.every((id) => pushes.has(id)), { what: 'every message pushed once' });
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    up = true;
    await waitUntil(() => ids.every((id) => acknowledged.has(id)), {
      what: 'every message acknowledged after the outage',
      timeoutMs: 60_000,
    });
    expect(Math.min(...ids.map((id) => pushes.get(id)!))).toBeGreaterThan(1);
    expect(deadLettered).toEqual([]);
  }, 90_000);
});
