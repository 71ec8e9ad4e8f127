import { PubSub, type Topic } from '@google-cloud/pubsub';
import type { FleetConfig } from '../config.js';
import { FleetError } from '../errors.js';
import type { MessagePublisher } from '../ports/dead-letter.js';

/** The official Pub/Sub client; on the local stack it targets the emulator (no credentials). */
export function createPubSubClient(config: FleetConfig): PubSub {
  return config.pubsubEmulatorHost === undefined
    ? new PubSub({ projectId: config.projectId })
    : new PubSub({ projectId: config.projectId, apiEndpoint: config.pubsubEmulatorHost, emulatorMode: true });
}

export class PubSubPublisher implements MessagePublisher {
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly pubsub: PubSub) {}

  async publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string> {
    let handle = this.topics.get(topic);
    if (handle === undefined) {
      handle = this.pubsub.topic(topic, { batching: { maxMilliseconds: 10 } });
      this.topics.set(topic, handle);
    }
    try {
      return await handle.publishMessage({ data, attributes });
    } catch (cause) {
      throw new FleetError('transient_sink', `publishing to topic ${topic} failed`, { cause });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.flush()));
  }
}
