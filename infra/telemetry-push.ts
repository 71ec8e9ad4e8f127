/**
 * telemetry-raw → an event function: a Pub/Sub push subscription with an OIDC token of its own
 * account (the function's only invoker besides nobody), exponential backoff between attempts, and
 * the dead-letter topic after maxDeliveryAttempts. The push path names the topic: functions-framework
 * turns it into the CloudEvent's source. Eventarc would create this subscription itself, without a
 * dead-letter policy the program could set.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.js';
import type { DeployedFunction } from './function-catalog.js';
import type { Messaging } from './messaging.js';

export function telemetryPush(
  target: DeployedFunction,
  args: { config: InfraConfig; messaging: Messaging; dependsOn: pulumi.Resource[] },
  opts: pulumi.CustomResourceOptions,
): gcp.pubsub.Subscription {
  const { config, messaging } = args;
  const { pubsubAgent } = messaging;
  const project = config.project;
  const id = `push-${target.spec.folder}`;
  const pusher = new gcp.serviceaccount.Account(
    `${id}-sa`,
    {
      project,
      accountId: `ff-push-${target.spec.folder}`,
      displayName: `fleet-features telemetry push to ${target.spec.entryPoint}`,
      description: 'Signs the OIDC tokens of its telemetry-raw push subscription.',
    },
    opts,
  );
  const invoker = new gcp.cloudrunv2.ServiceIamMember(
    `${id}-invoker`,
    {
      project,
      location: config.region,
      name: target.fn.name,
      role: 'roles/run.invoker',
      member: pulumi.interpolate`serviceAccount:${pusher.email}`,
    },
    opts,
  );
  // Pub/Sub mints the push tokens as its service agent (needed in projects made before 2021-04-08).
  const tokenCreator = new gcp.serviceaccount.IAMMember(
    `${id}-token-creator`,
    { serviceAccountId: pusher.name, role: 'roles/iam.serviceAccountTokenCreator', member: pubsubAgent },
    opts,
  );
  const subscription = new gcp.pubsub.Subscription(
    id,
    {
      project,
      name: pulumi.interpolate`${messaging.telemetry.name}-${target.spec.folder}`,
      topic: messaging.telemetry.id,
      ackDeadlineSeconds: config.ackDeadlineS,
      messageRetentionDuration: `${config.messageRetentionDays * 86_400}s`,
      expirationPolicy: { ttl: '' },
      retryPolicy: { minimumBackoff: `${config.minBackoffS}s`, maximumBackoff: `${config.maxBackoffS}s` },
      deadLetterPolicy: {
        deadLetterTopic: messaging.deadLetter.id,
        maxDeliveryAttempts: config.maxDeliveryAttempts,
      },
      pushConfig: {
        pushEndpoint: pulumi.interpolate`${target.url}/projects/${project}/topics/${messaging.telemetry.name}`,
        oidcToken: { serviceAccountEmail: pusher.email, audience: target.url },
      },
    },
    { ...opts, dependsOn: [...args.dependsOn, invoker, tokenCreator] },
  );
  // Dead-lettering acknowledges the message on this subscription as the Pub/Sub service agent.
  new gcp.pubsub.SubscriptionIAMMember(
    `${id}-dlq-subscriber`,
    { project, subscription: subscription.name, role: 'roles/pubsub.subscriber', member: pubsubAgent },
    opts,
  );
  return subscription;
}
