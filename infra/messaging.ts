/**
 * Pub/Sub: the topics the functions read and write (names from shared/config.ts's defaults), the
 * dead-letter topic's watch subscription, the two archive Cloud Storage subscriptions with exactly
 * the settings the local writer uses (shared/archive-subscriptions.ts), and the IAM the Pub/Sub
 * service agent needs to dead-letter and to write the archives. telemetry-raw carries no topic
 * schema: Avro and Protocol Buffers can't say "ISO string or number" (DESIGN.md); the functions
 * enforce the contract. The subscription that feeds processTelemetry is its trigger (infra/functions.ts).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import {
  archiveSubscriptions,
  type CloudStorageSubscriptionSettings,
  validateCloudStorageSubscription,
} from '../shared/archive-subscriptions.js';
import { loadConfig } from '../shared/config.js';
import type { InfraConfig } from './config.js';

/** The topic names the functions use when no variable overrides them. */
export const TOPICS = loadConfig({}).topics;

export interface MessagingArgs {
  config: InfraConfig;
  featuresBucket: gcp.storage.Bucket;
  dependsOn: pulumi.Resource[];
}

export class Messaging extends pulumi.ComponentResource {
  readonly telemetry: gcp.pubsub.Topic;
  readonly deadLetter: gcp.pubsub.Topic;
  readonly featureRows: gcp.pubsub.Topic;
  readonly alerts: gcp.pubsub.Topic;
  readonly deadLetterWatch: gcp.pubsub.Subscription;
  readonly archives: gcp.pubsub.Subscription[];
  /** serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com, created if missing. */
  readonly pubsubAgent: pulumi.Output<string>;

  constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Messaging', name, {}, opts);
    const { config } = args;
    const child = { parent: this, dependsOn: args.dependsOn };
    // Pub/Sub dead-letters, pushes and writes the archives as its service agent; asking for its
    // identity creates it, so the grants below never name an account that does not exist yet.
    this.pubsubAgent = new gcp.projects.ServiceIdentity(
      `${name}-pubsub-agent`,
      { project: config.project, service: 'pubsub.googleapis.com' },
      child,
    ).member;
    const topic = (key: keyof typeof TOPICS) =>
      new gcp.pubsub.Topic(
        `${name}-${TOPICS[key]}`,
        { project: config.project, name: TOPICS[key], labels: { app: 'fleet-features' } },
        child,
      );
    this.telemetry = topic('telemetry');
    this.deadLetter = topic('deadLetter');
    this.featureRows = topic('featureRows');
    this.alerts = topic('alerts');

    const retention = `${config.messageRetentionDays * 86_400}s`;
    // Dead-lettered readings wait here for a person (the alert on it fires while any are present).
    this.deadLetterWatch = new gcp.pubsub.Subscription(
      `${name}-${TOPICS.deadLetter}-watch`,
      {
        project: config.project,
        name: `${TOPICS.deadLetter}-watch`,
        topic: this.deadLetter.id,
        ackDeadlineSeconds: 60,
        messageRetentionDuration: retention,
        expirationPolicy: { ttl: '' },
      },
      child,
    );
    // Another subscription's messages reach the dead-letter topic as the Pub/Sub service agent.
    new gcp.pubsub.TopicIAMMember(
      `${name}-dlq-publisher`,
      {
        project: config.project,
        topic: this.deadLetter.name,
        role: 'roles/pubsub.publisher',
        member: this.pubsubAgent,
      },
      child,
    );

    // The archives write as the Pub/Sub service agent: it creates objects and reads bucket metadata.
    const bucketGrants = ['roles/storage.objectCreator', 'roles/storage.legacyBucketReader'].map(
      (role) =>
        new gcp.storage.BucketIAMMember(
          `${name}-archive-${role.split('.')[1]}`,
          { bucket: args.featuresBucket.name, role, member: this.pubsubAgent },
          child,
        ),
    );
    const settings = archiveSubscriptions(TOPICS);
    const topicOf = { [TOPICS.telemetry]: this.telemetry, [TOPICS.featureRows]: this.featureRows };
    this.archives = [settings.features, settings.raw].map((archive) =>
      this.#archive(name, archive, topicOf[archive.topic], args, {
        ...child,
        dependsOn: [...args.dependsOn, ...bucketGrants],
      }),
    );
    this.registerOutputs({});
  }

  #archive(
    name: string,
    settings: CloudStorageSubscriptionSettings,
    topic: gcp.pubsub.Topic | undefined,
    args: MessagingArgs,
    opts: pulumi.CustomResourceOptions,
  ): gcp.pubsub.Subscription {
    const valid = validateCloudStorageSubscription(settings);
    if (topic === undefined) throw new Error(`archive ${valid.subscription}: no topic ${valid.topic}`);
    return new gcp.pubsub.Subscription(
      `${name}-${valid.subscription}`,
      {
        project: args.config.project,
        name: valid.subscription,
        topic: topic.id,
        ackDeadlineSeconds: valid.ackDeadlineS,
        messageRetentionDuration: `${args.config.messageRetentionDays * 86_400}s`,
        expirationPolicy: { ttl: '' },
        cloudStorageConfig: {
          bucket: args.featuresBucket.name,
          filenamePrefix: valid.filenamePrefix,
          filenameSuffix: valid.filenameSuffix,
          filenameDatetimeFormat: valid.filenameDatetimeFormat,
          maxDuration: `${valid.maxDurationS}s`,
          maxBytes: valid.maxBytes,
          maxMessages: valid.maxMessages,
          // No avroConfig: the text format, only the message data, newline-separated.
        },
      },
      opts,
    );
  }
}
