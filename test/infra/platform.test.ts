// The rest of the stack, resource by resource, under Pulumi's mocks: messaging, online store,
// storage, warehouse, least-privilege IAM, the edge and Cloud Armor, retraining, alerts and APIs.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_APIS } from '../../infra/apis.js';
import { FUNCTION_CATALOG, type FunctionFolder } from '../../infra/function-catalog.js';
import { identityViewSql } from '../../shared/adapters/bigquery-feature-sink.js';
import { archiveSubscriptions } from '../../shared/archive-subscriptions.js';
import { FEATURE_COLUMNS } from '../../shared/rows/feature-row.js';
import { parseSchedules, workflowArguments } from '../../shared/schedules/timetable.js';
import {
  countByType,
  type MockResource,
  mockServiceUri,
  ofType,
  type ProgramRun,
  runFleetFeatures,
  TEST_PROJECT,
  TEST_PROJECT_NUMBER,
} from '../helpers/pulumi-program.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const PUBSUB_AGENT = `serviceAccount:service-${TEST_PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
const sa = (accountId: string) => `serviceAccount:${accountId}@${TEST_PROJECT}.iam.gserviceaccount.com`;

let run: ProgramRun;
const all = (type: string) => ofType(run.resources, type);
const one = (type: string) => {
  const found = all(type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const bucketNamed = (suffix: string) =>
  all('gcp:storage/bucket:Bucket').find((b) => b.inputs.name === `${TEST_PROJECT}-${suffix}`)!;
const topicId = (name: string) => `messaging-${name}-id`;

beforeAll(async () => {
  run = await runFleetFeatures();
});

describe('messaging', () => {
  it('has the four topics the functions use, telemetry-raw without a topic schema', () => {
    const topics = all('gcp:pubsub/topic:Topic');
    expect(topics.map((t) => t.inputs.name).sort()).toEqual([
      'alerts',
      'feature-rows',
      'telemetry-dlq',
      'telemetry-raw',
    ]);
    for (const topic of topics) expect(topic.inputs.schemaSettings).toBeUndefined();
  });

  it('every push or pull subscription of telemetry-raw dead-letters, retries with backoff, has an ack deadline and retention', () => {
    const telemetrySubs = all('gcp:pubsub/subscription:Subscription').filter(
      (s) => s.inputs.topic === topicId('telemetry-raw') && s.inputs.cloudStorageConfig === undefined,
    );
    expect(telemetrySubs.length).toBeGreaterThan(0);
    for (const sub of telemetrySubs) {
      expect(sub.inputs.deadLetterPolicy).toEqual({
        deadLetterTopic: topicId('telemetry-dlq'),
        maxDeliveryAttempts: 20,
      });
      expect(sub.inputs.retryPolicy).toEqual({ minimumBackoff: '1s', maximumBackoff: '60s' });
      expect(sub.inputs.ackDeadlineSeconds).toBe(60);
      expect(sub.inputs.messageRetentionDuration).toBe(`${7 * 86_400}s`);
    }
  });

  it('lets the Pub/Sub service agent publish to the dead-letter topic and acknowledge on every dead-lettered subscription', () => {
    expect(
      all('gcp:pubsub/topicIAMMember:TopicIAMMember').filter(
        (m) => m.inputs.member === PUBSUB_AGENT && m.inputs.role === 'roles/pubsub.publisher',
      ),
    ).toEqual([expect.objectContaining({ inputs: expect.objectContaining({ topic: 'telemetry-dlq' }) })]);
    const deadLettered = all('gcp:pubsub/subscription:Subscription').filter(
      (s) => s.inputs.deadLetterPolicy !== undefined,
    );
    const subscribers = all('gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember').filter(
      (m) => m.inputs.member === PUBSUB_AGENT && m.inputs.role === 'roles/pubsub.subscriber',
    );
    expect(subscribers.map((m) => m.inputs.subscription).sort()).toEqual(
      deadLettered.map((s) => s.inputs.name).sort(),
    );
  });

  it('archives to GCS through Cloud Storage subscriptions with exactly the local writer’s settings', () => {
    const expected = archiveSubscriptions({ telemetry: 'telemetry-raw', featureRows: 'feature-rows' });
    const archives = all('gcp:pubsub/subscription:Subscription').filter(
      (s) => s.inputs.cloudStorageConfig !== undefined,
    );
    expect(archives).toHaveLength(2);
    for (const settings of [expected.features, expected.raw]) {
      const sub = archives.find((s) => s.inputs.name === settings.subscription)!;
      expect(sub.inputs.topic).toBe(topicId(settings.topic));
      expect(sub.inputs.ackDeadlineSeconds).toBe(settings.ackDeadlineS);
      expect(sub.inputs.cloudStorageConfig).toEqual({
        bucket: `${TEST_PROJECT}-fleet-features`,
        filenamePrefix: settings.filenamePrefix,
        filenameSuffix: settings.filenameSuffix,
        filenameDatetimeFormat: settings.filenameDatetimeFormat,
        maxDuration: `${settings.maxDurationS}s`,
        maxBytes: settings.maxBytes,
        maxMessages: settings.maxMessages,
      });
    }
    const agentBucketRoles = all('gcp:storage/bucketIAMMember:BucketIAMMember')
      .filter((m) => m.inputs.member === PUBSUB_AGENT)
      .map((m) => `${m.inputs.bucket} ${m.inputs.role}`);
    expect(agentBucketRoles.sort()).toEqual([
      `${TEST_PROJECT}-fleet-features roles/storage.legacyBucketReader`,
      `${TEST_PROJECT}-fleet-features roles/storage.objectCreator`,
    ]);
  });
});

describe('online store', () => {
  it('is Memorystore for Redis with AUTH and TLS, tier and size from config, on the private network', () => {
    const redis = one('gcp:redis/instance:Instance');
    expect(redis.inputs).toMatchObject({
      authEnabled: true,
      transitEncryptionMode: 'SERVER_AUTHENTICATION',
      persistenceConfig: { persistenceMode: 'RDB', rdbSnapshotPeriod: 'ONE_HOUR' },
      tier: 'STANDARD_HA',
      memorySizeGb: 5,
      authorizedNetwork: 'network-vpc-id',
    });
    expect(all('gcp:redis/cluster:Cluster')).toEqual([]);
  });
});

describe('storage', () => {
  it('every bucket has uniform access and public access prevention enforced, and none is public', () => {
    const buckets = all('gcp:storage/bucket:Bucket');
    expect(buckets.map((b) => b.inputs.name).sort()).toEqual(
      ['fleet-features', 'fleet-fn-source', 'fleet-models'].map((s) => `${TEST_PROJECT}-${s}`),
    );
    for (const bucket of buckets) {
      expect(bucket.inputs.uniformBucketLevelAccess, String(bucket.inputs.name)).toBe(true);
      expect(bucket.inputs.publicAccessPrevention, String(bucket.inputs.name)).toBe('enforced');
    }
    const members = all('gcp:storage/bucketIAMMember:BucketIAMMember').map((m) => m.inputs.member);
    expect(members).not.toContain('allUsers');
    expect(members).not.toContain('allAuthenticatedUsers');
  });

  it('tiers the archives to Nearline, Coldline and Archive and deletes quarantine/ as configured', () => {
    const archive = ['features/', 'raw/', 'late/'];
    expect(bucketNamed('fleet-features').inputs.lifecycleRules).toEqual([
      {
        action: { type: 'SetStorageClass', storageClass: 'NEARLINE' },
        condition: { age: 30, matchesPrefixes: archive, matchesStorageClasses: ['STANDARD'] },
      },
      {
        action: { type: 'SetStorageClass', storageClass: 'COLDLINE' },
        condition: { age: 90, matchesPrefixes: archive, matchesStorageClasses: ['STANDARD', 'NEARLINE'] },
      },
      {
        action: { type: 'SetStorageClass', storageClass: 'ARCHIVE' },
        condition: {
          age: 365,
          matchesPrefixes: archive,
          matchesStorageClasses: ['STANDARD', 'NEARLINE', 'COLDLINE'],
        },
      },
      { action: { type: 'Delete' }, condition: { age: 30, matchesPrefixes: ['quarantine/'] } },
    ]);
  });

  it('versions the models bucket and expires superseded versions', () => {
    const models = bucketNamed('fleet-models');
    expect(models.inputs.versioning).toEqual({ enabled: true });
    expect(models.inputs.lifecycleRules).toEqual([
      { action: { type: 'Delete' }, condition: { withState: 'ARCHIVED', daysSinceNoncurrentTime: 90 } },
    ]);
  });
});

describe('warehouse', () => {
  it('creates the features table from the row contract, partitioned by event date, clustered by vehicle, expiring as configured', () => {
    const table = all('gcp:bigquery/table:Table').find((t) => t.inputs.tableId === 'features')!;
    const schema = JSON.parse(String(table.inputs.schema)) as { name: string; type: string; mode: string }[];
    expect(schema.map(({ name, type, mode }) => ({ name, type, mode }))).toEqual(
      FEATURE_COLUMNS.map(({ name, type, mode }) => ({ name, type, mode })),
    );
    expect(table.inputs.timePartitioning).toEqual({
      type: 'DAY',
      field: 'event_ts',
      expirationMs: 400 * 86_400_000,
    });
    expect(table.inputs.clusterings).toEqual(['vehicle_id']);
    expect(table.inputs.deletionProtection).toBe(true);
  });

  it('creates the identity view from the feature sink’s SQL', () => {
    const view = all('gcp:bigquery/table:Table').find((t) => t.inputs.tableId === 'features_by_identity')!;
    expect(view.inputs.view).toEqual({
      query: identityViewSql({ projectId: TEST_PROJECT, dataset: 'fleet_features', table: 'features' }),
      useLegacySql: false,
    });
  });
});

describe('least privilege', () => {
  /** Every grant to a member, as "<role> on <resource>". */
  function grantsOf(member: string): string[] {
    const on = (m: MockResource) => {
      const i = m.inputs;
      if (m.type.includes('topicIAMMember')) return `topic ${i.topic}`;
      if (m.type.includes('subscriptionIAMMember')) return `subscription ${i.subscription}`;
      if (m.type.includes('bucketIAMMember'))
        return `bucket ${String(i.bucket).replace(`${TEST_PROJECT}-`, '')}`;
      if (m.type.includes('datasetIamMember')) return `dataset ${i.datasetId}`;
      if (m.type.includes('secretIamMember')) return `secret ${i.secretId}`;
      if (m.type.includes('serviceIamMember')) return `function ${i.name}`;
      if (m.type.includes('projects/iAMMember')) return 'project';
      if (m.type.includes('serviceaccount/iAMMember')) return `account ${i.serviceAccountId}`;
      throw new Error(`unknown grant type ${m.type}`);
    };
    return run.resources
      .filter((r) => r.custom && /iam(member|binding)/i.test(r.type) && r.inputs.member === member)
      .map((r) => `${r.inputs.role} on ${on(r)}`)
      .sort();
  }

  const expected: Record<FunctionFolder, string[]> = {
    'process-telemetry': [
      'roles/bigquery.dataEditor on dataset fleet_features',
      'roles/pubsub.publisher on topic alerts',
      'roles/pubsub.publisher on topic feature-rows',
      'roles/pubsub.publisher on topic telemetry-dlq',
      'roles/secretmanager.secretAccessor on secret redis-ca',
      'roles/secretmanager.secretAccessor on secret redis-url',
      'roles/storage.objectCreator on bucket fleet-features',
      'roles/storage.objectViewer on bucket fleet-models',
    ],
    'features-api': [
      'roles/secretmanager.secretAccessor on secret redis-ca',
      'roles/secretmanager.secretAccessor on secret redis-url',
      'roles/storage.objectViewer on bucket fleet-models',
    ],
    'ingest-gateway': [
      'roles/pubsub.publisher on topic telemetry-raw',
      'roles/secretmanager.secretAccessor on secret ingest-fleet-secret',
      'roles/secretmanager.secretAccessor on secret redis-ca',
      'roles/secretmanager.secretAccessor on secret redis-url',
      'roles/storage.objectViewer on bucket fleet-models',
    ],
    trainer: [
      'roles/bigquery.dataViewer on dataset fleet_features',
      'roles/bigquery.jobUser on project',
      'roles/storage.objectUser on bucket fleet-models',
    ],
    drift: [
      'roles/bigquery.dataViewer on dataset fleet_features',
      'roles/bigquery.jobUser on project',
      'roles/storage.objectViewer on bucket fleet-models',
    ],
  };

  it.each(Object.keys(FUNCTION_CATALOG) as FunctionFolder[])(
    '%s’s account holds exactly the grants its work needs',
    (folder) => {
      expect(grantsOf(sa(`ff-${folder}`))).toEqual(expected[folder]);
    },
  );

  it('the workflow, scheduler, push and build accounts hold only their one job’s grants', () => {
    expect(grantsOf(sa('ff-retrain-workflow'))).toEqual([
      'roles/logging.logWriter on project',
      'roles/run.invoker on function drift',
      'roles/run.invoker on function trainer',
    ]);
    expect(grantsOf(sa('ff-retrain-scheduler'))).toEqual(['roles/workflows.invoker on project']);
    expect(grantsOf(sa('ff-push-process-telemetry'))).toEqual([
      'roles/run.invoker on function process-telemetry',
    ]);
    expect(grantsOf(sa('ff-function-build'))).toEqual(['roles/cloudbuild.builds.builder on project']);
  });

  it('grants go only to the program’s own accounts and the Pub/Sub service agent (allUsers: the gateway’s invoker alone)', () => {
    const ours = all('gcp:serviceaccount/account:Account').map((a) => sa(String(a.inputs.accountId)));
    const strangers = run.resources
      .filter((r) => r.custom && /iam(member|binding)/i.test(r.type))
      .filter((r) => ![...ours, PUBSUB_AGENT].includes(String(r.inputs.member)))
      .map((r) => `${r.inputs.member} ${r.inputs.role} ${r.inputs.name ?? ''}`);
    expect(strangers).toEqual(['allUsers roles/run.invoker ingest-gateway']);
  });

  it('no one is granted owner, editor or an admin role anywhere', () => {
    const roles = run.resources
      .filter((r) => r.custom && /iam(member|binding|policy)/i.test(r.type))
      .map((r) => String(r.inputs.role));
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) expect(role).not.toMatch(/^roles\/(owner|editor|viewer)$|[Aa]dmin$/);
  });
});

describe('edge', () => {
  it('routes HTTPS for the configured domain through a serverless NEG to the ingest gateway', () => {
    expect(one('gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup').inputs).toMatchObject({
      networkEndpointType: 'SERVERLESS',
      cloudRun: { service: 'ingest-gateway' },
    });
    expect(one('gcp:compute/managedSslCertificate:ManagedSslCertificate').inputs.managed).toEqual({
      domains: ['ingest.example.com'],
    });
    expect(one('gcp:compute/globalForwardingRule:GlobalForwardingRule').inputs).toMatchObject({
      portRange: '443',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      ipAddress: '203.0.113.10',
    });
    expect(one('gcp:compute/sSLPolicy:SSLPolicy').inputs.minTlsVersion).toBe('TLS_1_2');
    expect(run.outputs.ingestUrl).toBe('https://ingest.example.com/v1/telemetry');
  });

  it('attaches a Cloud Armor policy with WAF rules first, a per-device throttle, a per-IP ban and a default rule', () => {
    const policy = one('gcp:compute/securityPolicy:SecurityPolicy');
    expect(one('gcp:compute/backendService:BackendService').inputs.securityPolicy).toBe(
      `https://www.googleapis.com/compute/v1/projects/${TEST_PROJECT}/global/securityPolicies/${policy.inputs.name}`,
    );
    expect(policy.inputs.adaptiveProtectionConfig).toMatchObject({
      layer7DdosDefenseConfig: { enable: true },
    });
    type Rule = {
      priority: number;
      action: string;
      match: { expr?: { expression: string }; config?: { srcIpRanges: string[] } };
      rateLimitOptions?: Record<string, unknown>;
    };
    const rules = policy.inputs.rules as Rule[];
    const waf = rules.filter((r) => r.match.expr?.expression.startsWith('evaluatePreconfiguredWaf'));
    for (const attack of ['sqli', 'xss', 'lfi', 'rce']) {
      expect(waf.find((r) => r.match.expr!.expression.includes(`'${attack}-`))?.action, attack).toBe(
        'deny(403)',
      );
    }
    const ban = rules.find((r) => r.action === 'rate_based_ban')!;
    expect(ban.rateLimitOptions).toMatchObject({
      enforceOnKey: 'IP',
      rateLimitThreshold: { count: 2000, intervalSec: 300 },
      banDurationSec: 600,
      exceedAction: 'deny(429)',
    });
    expect(ban.match.config?.srcIpRanges).toEqual(['*']);
    const throttle = rules.find((r) => r.action === 'throttle')!;
    expect(throttle.rateLimitOptions).toMatchObject({
      enforceOnKey: 'HTTP_HEADER',
      enforceOnKeyName: 'x-device-id',
    });
    // First match wins: nothing may pass a rate limit's `allow` before the WAF has looked at it.
    const firstLimit = Math.min(ban.priority, throttle.priority);
    for (const rule of waf) expect(rule.priority).toBeLessThan(firstLimit);
    expect(rules.at(-1)).toMatchObject({ priority: 2_147_483_647, action: 'allow' });
  });
});

describe('retraining', () => {
  it('deploys workflows/retrain.yaml unchanged, with the function URLs in its environment and its own account', () => {
    const workflow = one('gcp:workflows/workflow:Workflow');
    expect(workflow.inputs.sourceContents).toBe(
      readFileSync(join(repoRoot, 'workflows/retrain.yaml'), 'utf8'),
    );
    expect(workflow.inputs.name).toBe('retrain');
    expect(workflow.inputs.userEnvVars).toEqual({
      TRAINER_URL: mockServiceUri('trainer'),
      DRIFT_URL: mockServiceUri('drift'),
    });
    expect(`serviceAccount:${workflow.inputs.serviceAccount}`).toBe(sa('ff-retrain-workflow'));
  });

  it('has one Cloud Scheduler job per schedule, with its cron, timezone and workflow argument', () => {
    const schedules = parseSchedules(readFileSync(join(repoRoot, 'workflows/schedules.yaml'), 'utf8'));
    const jobs = all('gcp:cloudscheduler/job:Job');
    expect(jobs).toHaveLength(schedules.length);
    for (const schedule of schedules) {
      const job = jobs.find((j) => j.inputs.name === `retrain-${schedule.name}`)!;
      expect(job.inputs.schedule).toBe(schedule.cron);
      expect(job.inputs.timeZone).toBe(schedule.timezone);
      const target = job.inputs.httpTarget as {
        uri: string;
        body: string;
        oauthToken: { serviceAccountEmail: string };
      };
      expect(target.uri).toBe(
        `https://workflowexecutions.googleapis.com/v1/projects/${TEST_PROJECT}/locations/us-central1/workflows/retrain/executions`,
      );
      const body = JSON.parse(Buffer.from(target.body, 'base64').toString('utf8')) as { argument: string };
      expect(JSON.parse(body.argument)).toEqual(workflowArguments(schedule));
      expect(`serviceAccount:${target.oauthToken.serviceAccountEmail}`).toBe(sa('ff-retrain-scheduler'));
    }
  });
});

describe('observability', () => {
  it('alerts on function errors, dead letters, old unacked telemetry and Redis memory', () => {
    const policies = all('gcp:monitoring/alertPolicy:AlertPolicy');
    type Condition = {
      conditionThreshold?: { filter: string; thresholdValue: number; comparison: string };
      conditionPrometheusQueryLanguage?: { query: string };
    };
    const conditions = policies.flatMap((p) => p.inputs.conditions as Condition[]);
    const threshold = (metric: string) =>
      conditions.find((c) => c.conditionThreshold?.filter.includes(metric))!;
    expect(threshold('num_undelivered_messages').conditionThreshold).toMatchObject({
      thresholdValue: 0,
      comparison: 'COMPARISON_GT',
    });
    expect(threshold('num_undelivered_messages').conditionThreshold!.filter).toContain(
      '"telemetry-dlq-watch"',
    );
    expect(threshold('oldest_unacked_message_age').conditionThreshold).toMatchObject({ thresholdValue: 300 });
    expect(threshold('oldest_unacked_message_age').conditionThreshold!.filter).toContain(
      '"telemetry-raw-process-telemetry"',
    );
    expect(threshold('redis.googleapis.com/stats/memory/usage_ratio').conditionThreshold).toMatchObject({
      thresholdValue: 0.8,
    });
    const errors = conditions.find((c) => c.conditionPrometheusQueryLanguage !== undefined)!;
    expect(errors.conditionPrometheusQueryLanguage!.query).toMatch(/response_code_class="5xx".*\/.*> 0\.01$/);
    for (const folder of Object.keys(FUNCTION_CATALOG)) {
      expect(errors.conditionPrometheusQueryLanguage!.query).toContain(folder);
    }
  });

  it('has no notification channel unless alertEmail is set', () => {
    expect(all('gcp:monitoring/notificationChannel:NotificationChannel')).toEqual([]);
  });
});

describe('project', () => {
  it('enables every API the program uses', () => {
    expect(
      all('gcp:projects/service:Service')
        .map((s) => s.inputs.service)
        .sort(),
    ).toEqual([...REQUIRED_APIS].sort());
  });

  it('outputs what a user needs', () => {
    expect(run.outputs).toEqual({
      ingestUrl: 'https://ingest.example.com/v1/telemetry',
      ingestIpAddress: '203.0.113.10',
      topics: {
        telemetry: 'telemetry-raw',
        deadLetter: 'telemetry-dlq',
        featureRows: 'feature-rows',
        alerts: 'alerts',
      },
      featuresTable: `${TEST_PROJECT}.fleet_features.features`,
      featuresByIdentityView: `${TEST_PROJECT}.fleet_features.features_by_identity`,
      buckets: {
        features: `${TEST_PROJECT}-fleet-features`,
        models: `${TEST_PROJECT}-fleet-models`,
        functionSource: `${TEST_PROJECT}-fleet-fn-source`,
      },
      workflow: 'retrain',
      featuresApiUrl: mockServiceUri('features-api'),
    });
  });
});

describe('inventory', () => {
  it('a default stack is these 111 resources by type, in 10 components (a new resource is a deliberate change)', () => {
    const counts = countByType(run.resources);
    const components = Object.entries(counts).filter(([type]) => type.startsWith('fleet-features:'));
    const resources = Object.fromEntries(
      Object.entries(counts).filter(([type]) => !type.startsWith('fleet-features:')),
    );
    expect(components).toHaveLength(10);
    expect(resources).toEqual({
      'gcp:bigquery/dataset:Dataset': 1,
      'gcp:bigquery/datasetIamMember:DatasetIamMember': 3,
      'gcp:bigquery/table:Table': 2,
      'gcp:cloudfunctionsv2/function:Function': 5,
      'gcp:cloudrunv2/serviceIamMember:ServiceIamMember': 4,
      'gcp:cloudscheduler/job:Job': 2,
      'gcp:compute/backendService:BackendService': 1,
      'gcp:compute/globalAddress:GlobalAddress': 1,
      'gcp:compute/globalForwardingRule:GlobalForwardingRule': 1,
      'gcp:compute/managedSslCertificate:ManagedSslCertificate': 1,
      'gcp:compute/network:Network': 1,
      'gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup': 1,
      'gcp:compute/securityPolicy:SecurityPolicy': 1,
      'gcp:compute/sSLPolicy:SSLPolicy': 1,
      'gcp:compute/subnetwork:Subnetwork': 1,
      'gcp:compute/targetHttpsProxy:TargetHttpsProxy': 1,
      'gcp:compute/uRLMap:URLMap': 1,
      'gcp:monitoring/alertPolicy:AlertPolicy': 4,
      'gcp:projects/iAMMember:IAMMember': 5,
      'gcp:projects/service:Service': 18,
      'gcp:projects/serviceIdentity:ServiceIdentity': 1,
      'gcp:pubsub/subscription:Subscription': 4,
      'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember': 1,
      'gcp:pubsub/topic:Topic': 4,
      'gcp:pubsub/topicIAMMember:TopicIAMMember': 5,
      'gcp:redis/instance:Instance': 1,
      'gcp:secretmanager/secret:Secret': 3,
      'gcp:secretmanager/secretIamMember:SecretIamMember': 7,
      'gcp:secretmanager/secretVersion:SecretVersion': 3,
      'gcp:serviceaccount/account:Account': 9,
      'gcp:serviceaccount/iAMMember:IAMMember': 1,
      'gcp:storage/bucket:Bucket': 3,
      'gcp:storage/bucketIAMMember:BucketIAMMember': 8,
      'gcp:storage/bucketObject:BucketObject': 5,
      'gcp:workflows/workflow:Workflow': 1,
    });
    expect(Object.values(resources).reduce((a, b) => a + b, 0)).toBe(111);
  });
});
