/**
 * Alert policies on what needs a person: functions failing (5xx over alertErrorRatio of requests),
 * readings in the dead-letter topic, telemetry waiting too long (oldest unacked message), Redis
 * memory filling up; sent to an email channel when alertEmail is set.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.js';
import { FUNCTION_CATALOG } from './function-catalog.js';
import type { Functions } from './functions.js';
import type { Messaging } from './messaging.js';
import type { OnlineStore } from './online-store.js';

export interface ObservabilityArgs {
  config: InfraConfig;
  messaging: Messaging;
  functions: Functions;
  onlineStore: OnlineStore;
  dependsOn: pulumi.Resource[];
}

type Threshold = gcp.types.input.monitoring.AlertPolicyConditionConditionThreshold;

/** PromQL: per function, the share of requests answered 5xx over 5 minutes above `ratio`. */
export function errorRatioQuery(ratio: number): string {
  const services = Object.values(FUNCTION_CATALOG)
    .map((spec) => spec.folder)
    .join('|');
  const requests = (extra: string) =>
    `sum by (service_name) (rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name=~"${services}"${extra}}[5m]))`;
  return `${requests(',response_code_class="5xx"')} / ${requests('')} > ${ratio}`;
}

export class Observability extends pulumi.ComponentResource {
  readonly policies: gcp.monitoring.AlertPolicy[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Observability', name, {}, opts);
    const { config, messaging, functions, onlineStore } = args;
    const project = config.project;
    const child = { parent: this, dependsOn: args.dependsOn };
    const channels: pulumi.Output<string>[] = [];
    if (config.alertEmail !== '') {
      const channel = new gcp.monitoring.NotificationChannel(
        `${name}-email`,
        {
          project,
          displayName: 'fleet-features on-call',
          type: 'email',
          labels: { email_address: config.alertEmail },
        },
        child,
      );
      channels.push(channel.id);
    }
    const policy = (
      id: string,
      displayName: string,
      condition: gcp.types.input.monitoring.AlertPolicyCondition,
      doc: string,
    ) =>
      new gcp.monitoring.AlertPolicy(
        `${name}-${id}`,
        {
          project,
          displayName,
          combiner: 'OR',
          conditions: [condition],
          notificationChannels: channels,
          documentation: { content: doc, mimeType: 'text/markdown' },
          severity: 'ERROR',
          userLabels: { app: 'fleet-features' },
        },
        child,
      );
    const above = (filter: pulumi.Input<string>, value: number, aligner = 'ALIGN_MAX'): Threshold => ({
      filter,
      comparison: 'COMPARISON_GT',
      thresholdValue: value,
      duration: '0s',
      aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: aligner }],
    });
    const subscriptionMetric = (subscriptions: pulumi.Output<string>[], metric: string) =>
      pulumi
        .all(subscriptions)
        .apply(
          (ids) =>
            `resource.type = "pubsub_subscription" AND resource.label.subscription_id = one_of(${ids.map((id) => JSON.stringify(id)).join(', ')}) AND metric.type = "pubsub.googleapis.com/subscription/${metric}"`,
        );

    this.policies = [
      policy(
        'function-errors',
        'fleet-features: function error ratio',
        {
          displayName: `5xx over ${config.alertErrorRatio * 100}% of a function's requests (5 min)`,
          conditionPrometheusQueryLanguage: {
            query: errorRatioQuery(config.alertErrorRatio),
            duration: '300s',
            evaluationInterval: '60s',
          },
        },
        'A function answers 5xx to more than the configured share of its requests. Check its logs (severity ERROR).',
      ),
      policy(
        'dead-letters',
        'fleet-features: dead-lettered readings',
        {
          displayName: 'messages in the dead-letter topic',
          conditionThreshold: above(
            subscriptionMetric([messaging.deadLetterWatch.name], 'num_undelivered_messages'),
            0,
          ),
        },
        'Invalid readings reached telemetry-dlq (their reason is in quarantine/ of the features bucket); pull telemetry-dlq-watch to inspect them.',
      ),
      policy(
        'oldest-unacked',
        'fleet-features: telemetry waiting',
        {
          displayName: `oldest unacked telemetry older than ${config.alertOldestUnackedS} s`,
          conditionThreshold: above(
            subscriptionMetric(
              functions.pushSubscriptions.map((s) => s.name),
              'oldest_unacked_message_age',
            ),
            config.alertOldestUnackedS,
          ),
        },
        'processTelemetry is not keeping up or keeps failing: readings wait on telemetry-raw.',
      ),
      policy(
        'redis-memory',
        'fleet-features: Redis memory',
        {
          displayName: `Redis memory above ${config.alertRedisMemoryRatio * 100}%`,
          conditionThreshold: above(
            pulumi.interpolate`${onlineStore.memoryMetric.filter} AND metric.type = "${onlineStore.memoryMetric.metricType}"`,
            config.alertRedisMemoryRatio,
          ),
        },
        'The online store is filling up: add memory (redisMemoryGb) or shards (redisMode cluster).',
      ),
    ];
    this.registerOutputs({});
  }
}
