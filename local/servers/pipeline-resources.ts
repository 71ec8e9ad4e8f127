// Creates, on the local stack, what infra creates in Google Cloud: the telemetry, dead-letter,
// feature-rows and alerts topics (with a pull subscription `<alerts topic>-watch` to read alerts), the push subscription that feeds processTelemetry (with a
// dead-letter policy), a pull subscription to watch the dead-letter topic, the bucket, and, in
// place of the two archive Cloud Storage subscriptions the emulator lacks, pull subscriptions of
// the same names for the local writer (local/servers/cloud-storage-subscription-writer.ts).

import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { type ArchiveSubscriptions, archiveSubscriptions } from '../../shared/archive-subscriptions.js';
import type { FleetConfig } from '../../shared/config.js';

/** Push attempts of a message before the local subscription dead-letters it (about one a second). */
export const LOCAL_MAX_DELIVERY_ATTEMPTS = 30;

export interface PipelineSubscriptions {
  /** Push subscription feeding processTelemetry: `<telemetry topic>-process-telemetry`. */
  features: string;
  /** Pull subscription on the dead-letter topic, for watching it: `<dead-letter topic>-watch`. */
  deadLetterWatch: string;
  /** Pull subscription on the alerts topic: `<alerts topic>-watch`. */
  alertsWatch: string;
  /** The archives' settings; their pull subscriptions exist. */
  archives: ArchiveSubscriptions;
}

export async function createPipelineResources(options: {
  pubsub: PubSub;
  storage: Storage;
  /** The project, bucket and topics the functions are configured with. */
  config: Pick<FleetConfig, 'projectId' | 'featuresBucket' | 'topics'>;
  /** Base URL of the functions-framework server of processTelemetry. */
  processTelemetryUrl: string;
}): Promise<PipelineSubscriptions> {
  const { pubsub } = options;
  const { projectId, topics } = options.config;
  const bucket = options.config.featuresBucket;
  const [bucketExists] = await options.storage.bucket(bucket).exists();
  if (!bucketExists) await options.storage.createBucket(bucket);

  const [telemetry] = await pubsub.topic(topics.telemetry).get({ autoCreate: true });
  const [deadLetter] = await pubsub.topic(topics.deadLetter).get({ autoCreate: true });
  await pubsub.topic(topics.featureRows).get({ autoCreate: true });
  const [alerts] = await pubsub.topic(topics.alerts).get({ autoCreate: true });
  // The framework names the topic in the CloudEvent's source from this path.
  const pushEndpoint = `${options.processTelemetryUrl}/projects/${projectId}/topics/${topics.telemetry}`;
  const names: PipelineSubscriptions = {
    features: `${topics.telemetry}-process-telemetry`,
    deadLetterWatch: `${topics.deadLetter}-watch`,
    alertsWatch: `${topics.alerts}-watch`,
    archives: archiveSubscriptions({
      telemetry: topics.telemetry,
      featureRows: topics.featureRows,
    }),
  };
  // The archives first: they must see every message, including the first ones pushed.
  for (const archive of [names.archives.features, names.archives.raw]) {
    const topic = pubsub.topic(archive.topic);
    if (!(await topic.subscription(archive.subscription).exists())[0]) {
      await topic.createSubscription(archive.subscription, { ackDeadlineSeconds: archive.ackDeadlineS });
    }
  }
  const features = telemetry.subscription(names.features);
  if (!(await features.exists())[0]) {
    await telemetry.createSubscription(names.features, {
      pushConfig: { pushEndpoint },
      ackDeadlineSeconds: 30,
      // No retryPolicy: with one, the emulator stops pushing a message after its second failed
      // push and never redelivers nor dead-letters it (a function restart stalled the pipeline for
      // good; test/integration/push-redelivery.test.ts). Without one it redelivers about once a
      // second, so 30 attempts ride out ~30 s of function or Redis outage (README "Reliability").
      deadLetterPolicy: {
        deadLetterTopic: deadLetter.name,
        maxDeliveryAttempts: LOCAL_MAX_DELIVERY_ATTEMPTS,
      },
    });
  }
  if (!(await deadLetter.subscription(names.deadLetterWatch).exists())[0]) {
    await deadLetter.createSubscription(names.deadLetterWatch);
  }
  if (!(await alerts.subscription(names.alertsWatch).exists())[0]) {
    await alerts.createSubscription(names.alertsWatch);
  }
  return names;
}
