// Creates, on the local stack, what infra creates in Google Cloud: the telemetry and dead-letter
// topics, the push subscription that feeds processTelemetry (with a retry and dead-letter policy),
// a pull subscription to watch the dead-letter topic, and the bucket.

import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';

export interface PipelineSubscriptions {
  /** Push subscription feeding processTelemetry: `<telemetry topic>-process-telemetry`. */
  features: string;
  /** Pull subscription on the dead-letter topic, for watching it: `<dead-letter topic>-watch`. */
  deadLetterWatch: string;
}

export async function createPipelineResources(options: {
  pubsub: PubSub;
  storage: Storage;
  projectId: string;
  bucket: string;
  telemetryTopic: string;
  deadLetterTopic: string;
  /** Base URL of the functions-framework server of processTelemetry. */
  processTelemetryUrl: string;
}): Promise<PipelineSubscriptions> {
  const { pubsub, projectId } = options;
  const [bucketExists] = await options.storage.bucket(options.bucket).exists();
  if (!bucketExists) await options.storage.createBucket(options.bucket);

  const [telemetry] = await pubsub.topic(options.telemetryTopic).get({ autoCreate: true });
  const [deadLetter] = await pubsub.topic(options.deadLetterTopic).get({ autoCreate: true });
  // The framework names the topic in the CloudEvent's source from this path.
  const pushEndpoint = `${options.processTelemetryUrl}/projects/${projectId}/topics/${options.telemetryTopic}`;
  const names: PipelineSubscriptions = {
    features: `${options.telemetryTopic}-process-telemetry`,
    deadLetterWatch: `${options.deadLetterTopic}-watch`,
  };
  const features = telemetry.subscription(names.features);
  if (!(await features.exists())[0]) {
    await telemetry.createSubscription(names.features, {
      pushConfig: { pushEndpoint },
      ackDeadlineSeconds: 30,
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } },
      deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: 5 },
    });
  }
  if (!(await deadLetter.subscription(names.deadLetterWatch).exists())[0]) {
    await deadLetter.createSubscription(names.deadLetterWatch);
  }
  return names;
}
