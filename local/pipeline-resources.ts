// Creates, on the local stack, what infra creates in Google Cloud: the telemetry and dead-letter
// topics, the push subscription that feeds processTelemetry (with a retry and dead-letter policy),
// a pull subscription to watch the dead-letter topic, and the bucket.

import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';

export const FEATURES_SUBSCRIPTION = 'telemetry-raw-process-telemetry';
export const DEAD_LETTER_WATCH_SUBSCRIPTION = 'telemetry-dlq-watch';

export async function createPipelineResources(options: {
  pubsub: PubSub;
  storage: Storage;
  projectId: string;
  bucket: string;
  telemetryTopic: string;
  deadLetterTopic: string;
  /** Base URL of the functions-framework server of processTelemetry. */
  processTelemetryUrl: string;
}): Promise<void> {
  const { pubsub, projectId } = options;
  const [bucketExists] = await options.storage.bucket(options.bucket).exists();
  if (!bucketExists) await options.storage.createBucket(options.bucket);

  const [telemetry] = await pubsub.topic(options.telemetryTopic).get({ autoCreate: true });
  const [deadLetter] = await pubsub.topic(options.deadLetterTopic).get({ autoCreate: true });
  // The framework names the topic in the CloudEvent's source from this path.
  const pushEndpoint = `${options.processTelemetryUrl}/projects/${projectId}/topics/${options.telemetryTopic}`;
  const features = telemetry.subscription(FEATURES_SUBSCRIPTION);
  if (!(await features.exists())[0]) {
    await telemetry.createSubscription(FEATURES_SUBSCRIPTION, {
      pushConfig: { pushEndpoint },
      ackDeadlineSeconds: 30,
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } },
      deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: 5 },
    });
  }
  if (!(await deadLetter.subscription(DEAD_LETTER_WATCH_SUBSCRIPTION).exists())[0]) {
    await deadLetter.createSubscription(DEAD_LETTER_WATCH_SUBSCRIPTION);
  }
}
