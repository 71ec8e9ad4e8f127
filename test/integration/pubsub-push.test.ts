// How a Pub/Sub push subscription drives a CloudEvent function, checked end to end against the real
// emulator and a real functions-framework server: the contract every function in functions/ relies
// on (decode `message.data`, throw to be retried, return to acknowledge, dead-letter after N attempts).
//
// Emulator behaviour found while writing this (emulator 0.8.20, Cloud SDK 528):
// - The official client needs no credentials: `new PubSub({ projectId, apiEndpoint: host })` sees a
//   non-googleapis.com endpoint and switches to emulator mode (insecure channel, no auth).
// - The push body carries `subscription` and `message` (data, attributes, messageId, publishTime) but
//   no `deliveryAttempt`, even with a dead-letter policy; the framework turns it into a CloudEvent
//   whose `data` is `{ message }` only (the subscription name is dropped) and whose `source` names the
//   topic taken from the push URL path, hence push URLs of the form /projects/P/topics/T.
// - A failed push (any non-2xx, e.g. the framework's 500 for a thrown error) is redelivered about
//   once a second when the subscription has no retryPolicy. A retryPolicy only slows this down
//   (minimumBackoff 0.1 s / maximumBackoff 1 s gave gaps of 1.0, 2.8 and 3.0 s), so none is set.
// - Dead-letter policies work: after maxDeliveryAttempts the message is republished to the dead-letter
//   topic (new message id) with CloudPubSubDeadLetterSource* attributes and is not pushed again.

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudEvent } from '@google-cloud/functions-framework';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { type Message, PubSub, type Subscription, type Topic } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

interface MessagePublishedData {
  message: {
    data: string;
    attributes?: Record<string, string>;
    messageId: string;
    publishTime: string;
  };
}

const FUNCTION_NAME = 'pubsubPushContract';
/** Message attribute telling the function how many attempts of that message to fail. */
const FAIL_ATTEMPTS = 'fail-attempts';

/** Every event the function received, in order, by topic (`projects/P/topics/T`). */
const received = new Map<string, CloudEvent<MessagePublishedData>[]>();

functions.cloudEvent<MessagePublishedData>(FUNCTION_NAME, (event: CloudEvent<MessagePublishedData>) => {
  const topic = event.source.replace('//pubsub.googleapis.com/', '');
  const events = received.get(topic) ?? [];
  events.push(event);
  received.set(topic, events);

  const message = event.data?.message;
  const attempt = events.filter((seen) => seen.data?.message.messageId === message?.messageId).length;
  const failAttempts = message?.attributes?.[FAIL_ATTEMPTS];
  if (failAttempts === 'always' || attempt <= Number(failAttempts ?? 0)) {
    // A transient failure: throwing makes the framework answer 500, which Pub/Sub treats as a nack.
    const reason = `attempt ${attempt} of message ${message?.messageId} fails on purpose`;
    throw Object.assign(new Error(reason), { stack: reason }); // one log line, not a stack
  }
});

function deliveriesTo(topicName: string): CloudEvent<MessagePublishedData>[] {
  return received.get(topicName) ?? [];
}

function attemptsOf(topicName: string, messageId: string): number {
  return deliveriesTo(topicName).filter((event) => event.data?.message.messageId === messageId).length;
}

function decode(event: CloudEvent<MessagePublishedData> | undefined): string {
  return Buffer.from(event?.data?.message.data ?? '', 'base64').toString('utf8');
}

describe('Pub/Sub push subscription → functions-framework CloudEvent function (emulator)', () => {
  const { projectId, pubsubEmulatorHost } = localServers();
  const pubsub = new PubSub({ projectId, apiEndpoint: pubsubEmulatorHost });
  const subscriptions: Subscription[] = [];
  let server: Server;
  let functionUrl: string;

  beforeAll(async () => {
    server = getTestServer(FUNCTION_NAME);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    // Deleting the subscriptions stops the emulator pushing to a server that is going away.
    await Promise.allSettled(subscriptions.map((subscription) => subscription.delete()));
    await pubsub.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function topicPushingToFunction(
    options: { deadLetterPolicy?: { deadLetterTopic: string; maxDeliveryAttempts: number } } = {},
  ): Promise<{ topic: Topic; topicName: string; subscriptionId: string }> {
    const topicId = `telemetry-${randomUUID().slice(0, 8)}`;
    const topicName = `projects/${projectId}/topics/${topicId}`;
    const subscriptionId = `${topicId}-push`;
    const [topic] = await pubsub.createTopic(topicId);
    const [subscription] = await topic.createSubscription(subscriptionId, {
      // The path lets the framework name the topic in the CloudEvent source.
      pushConfig: { pushEndpoint: `${functionUrl}/${topicName}` },
      ackDeadlineSeconds: 10,
      ...(options.deadLetterPolicy ? { deadLetterPolicy: options.deadLetterPolicy } : {}),
    });
    subscriptions.push(subscription);
    return { topic, topicName, subscriptionId };
  }

  it('delivers a published message as a messagePublished CloudEvent carrying data, attributes and id', async () => {
    const { topic, topicName } = await topicPushingToFunction();
    const reading = { vehicle_id: 'truck-7', timestamp: '2026-01-02T03:04:05Z', speed_kmh: 88.5 };

    const messageId = await topic.publishMessage({ json: reading, attributes: { schema: 'telemetry.v1' } });
    await waitUntil(() => deliveriesTo(topicName).length === 1, { what: 'the push delivery arrives' });

    const [event] = deliveriesTo(topicName);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: `//pubsub.googleapis.com/${topicName}`,
      id: messageId,
    });
    expect(event?.data?.message).toMatchObject({ messageId, attributes: { schema: 'telemetry.v1' } });
    expect(Number.isNaN(Date.parse(event?.data?.message.publishTime ?? ''))).toBe(false);
    expect(JSON.parse(decode(event))).toEqual(reading);
  });

  it('redelivers the same message after the function throws, and stops once an attempt returns', async () => {
    const { topic, topicName } = await topicPushingToFunction();

    const retried = await topic.publishMessage({
      data: Buffer.from('reading-1'),
      attributes: { [FAIL_ATTEMPTS]: '1' },
    });
    await waitUntil(() => attemptsOf(topicName, retried) === 2, { what: 'the failed push is redelivered' });
    const attempts = deliveriesTo(topicName).filter((event) => event.data?.message.messageId === retried);
    expect(attempts.map(decode)).toEqual(['reading-1', 'reading-1']);
    expect(attempts.map((event) => event.id)).toEqual([retried, retried]);

    // Witness for the acknowledgement: a later message that needs two more redelivery rounds of the
    // same subscription. Had the second attempt of the first message not been acknowledged, it would
    // have been pushed again during those rounds.
    const witness = await topic.publishMessage({
      data: Buffer.from('reading-2'),
      attributes: { [FAIL_ATTEMPTS]: '2' },
    });
    await waitUntil(() => attemptsOf(topicName, witness) === 3, { what: 'the witness message succeeds' });
    expect(attemptsOf(topicName, retried)).toBe(2);
  });

  it('moves a message that keeps failing to the dead-letter topic after maxDeliveryAttempts', async () => {
    const [deadLetterTopic] = await pubsub.createTopic(`telemetry-dlq-${randomUUID().slice(0, 8)}`);
    const [deadLetterSubscription] = await deadLetterTopic.createSubscription(
      `${deadLetterTopic.name.split('/').pop()}-pull`,
    );
    subscriptions.push(deadLetterSubscription);
    const deadLettered: Message[] = [];
    deadLetterSubscription.on('message', (message: Message) => {
      deadLettered.push(message);
      message.ack();
    });
    const { topic, topicName, subscriptionId } = await topicPushingToFunction({
      deadLetterPolicy: { deadLetterTopic: deadLetterTopic.name, maxDeliveryAttempts: 5 },
    });

    const poison = await topic.publishMessage({
      data: Buffer.from('poison'),
      attributes: { [FAIL_ATTEMPTS]: 'always' },
    });
    await waitUntil(() => deadLettered.length === 1, {
      what: 'the message is dead-lettered',
      timeoutMs: 25_000,
    });
    await deadLetterSubscription.close();

    expect(attemptsOf(topicName, poison)).toBe(5);
    expect(deadLettered[0]?.data.toString('utf8')).toBe('poison');
    expect(deadLettered[0]?.attributes).toMatchObject({
      [FAIL_ATTEMPTS]: 'always',
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
      CloudPubSubDeadLetterSourceSubscription: subscriptionId,
      CloudPubSubDeadLetterSourceSubscriptionProject: projectId,
    });
  });
});
