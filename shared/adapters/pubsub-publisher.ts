import { type ClientConfig, PubSub, type Topic } from '@google-cloud/pubsub';
import { PassThroughClient } from 'google-auth-library';
import type { FleetConfig } from '../config.js';
import { FleetError } from '../errors.js';
import type { MessagePublisher } from '../ports/dead-letter.js';

/**
 * The official Pub/Sub client; on the local stack it targets the emulator with an auth client that
 * sends no credentials. (Without one the client still looks for Application Default Credentials
 * and probes the GCE metadata server: a MetadataLookupWarning in every process that publishes.)
 */
export function createPubSubClient(
  config: Pick<FleetConfig, 'projectId' | 'pubsubEmulatorHost'>,
  overrides: ClientConfig = {},
): PubSub {
  return config.pubsubEmulatorHost === undefined
    ? new PubSub({ projectId: config.projectId, ...overrides })
    : new PubSub({
        projectId: config.projectId,
        apiEndpoint: config.pubsubEmulatorHost,
        emulatorMode: true,
        authClient: new PassThroughClient(),
        ...overrides,
      });
}

export interface PubSubPublisherOptions {
  /** Client-side batching delay; concurrent publishes within it share one request. */
  maxDelayMs?: number;
  /**
   * Bound on one publish, the client's own retries included (its default is 10 minutes): a flush
   * fails in seconds and the invocation is redelivered, as with the BigQuery and GCS clients.
   */
  timeoutMs?: number;
}

/** gRPC INVALID_ARGUMENT: the request itself is wrong (too large, bad attributes); no retry fixes it. */
const GRPC_INVALID_ARGUMENT = 3;

export class PubSubPublisher implements MessagePublisher {
  private readonly topics = new Map<string, Topic>();
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly pubsub: PubSub,
    options: PubSubPublisherOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 10;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Resolves with the message id once Pub/Sub has stored the message. Failures are transient
   * (`transient_sink`, redelivery may succeed) except INVALID_ARGUMENT (`sink_rejected`).
   */
  async publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string> {
    let handle = this.topics.get(topic);
    if (handle === undefined) {
      handle = this.pubsub.topic(topic, {
        batching: { maxMilliseconds: this.maxDelayMs },
        gaxOpts: { timeout: this.timeoutMs },
      });
      this.topics.set(topic, handle);
    }
    try {
      return await handle.publishMessage({ data, attributes });
    } catch (cause) {
      const code = (cause as { code?: unknown } | null)?.code;
      const message = `publishing to topic ${topic} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
      throw code === GRPC_INVALID_ARGUMENT
        ? new FleetError('sink_rejected', message, { cause, transient: false, metadata: { topic, code } })
        : new FleetError('transient_sink', message, { cause, metadata: { topic, code } });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.flush()));
  }
}
