// Every function found under functions/ is deployed by the Pulumi program with its runtime, entry
// point, own service account, trigger (and retries), VPC egress, secrets and invoker policy. The
// checks run over the folders and the function resources found, not a list: a new function without
// an identity, a trigger retry or an invoker policy fails here.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_CATALOG } from '../../infra/function-catalog.js';
import { CONFIG_VARIABLES, loadConfig } from '../../shared/config.js';
import {
  MOCK_FLEET_SECRET,
  MOCK_REDIS_AUTH,
  type MockResource,
  mockServiceUri,
  ofType,
  type ProgramRun,
  runFleetFeatures,
  TEST_PROJECT,
} from '../helpers/pulumi-program.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const functionFolders = readdirSync(join(repoRoot, 'functions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, 'functions', entry.name, 'index.ts')))
  .map((entry) => entry.name)
  .sort();

/** The name and signature a function registers with functions-framework in its index.ts. */
function registration(folder: string): { signature: 'http' | 'cloudEvent'; target: string } {
  const source = readFileSync(join(repoRoot, 'functions', folder, 'index.ts'), 'utf8');
  const match = /functions\.(http|cloudEvent)(?:<[^>]*>)?\(\s*'([A-Za-z0-9_]+)'/.exec(source);
  if (match === null) throw new Error(`functions/${folder}/index.ts registers no function`);
  return { signature: match[1] as 'http' | 'cloudEvent', target: match[2]! };
}

interface ServiceConfig {
  serviceAccountEmail: string;
  ingressSettings: string;
  availableMemory: string;
  maxInstanceRequestConcurrency: number;
  minInstanceCount: number;
  maxInstanceCount: number;
  timeoutSeconds: number;
  environmentVariables: Record<string, string>;
  secretEnvironmentVariables?: { key: string; secret: string; version: string }[];
  secretVolumes?: { mountPath: string; secret: string }[];
  directVpcNetworkInterfaces?: { network: string; subnetwork: string }[];
  directVpcEgress?: string;
}
interface FunctionInputs {
  name: string;
  buildConfig: {
    runtime: string;
    entryPoint: string;
    serviceAccount: string;
    source: { storageSource: { bucket: string; object: string } };
  };
  serviceConfig: ServiceConfig;
}

let run: ProgramRun;
let functions: { resource: MockResource; inputs: FunctionInputs; url: string }[];
const fnNamed = (folder: string) => functions.find((f) => f.inputs.name === folder)!;

beforeAll(async () => {
  run = await runFleetFeatures();
  functions = ofType(run.resources, 'gcp:cloudfunctionsv2/function:Function').map((resource) => {
    const inputs = resource.inputs as unknown as FunctionInputs;
    return {
      resource,
      inputs,
      url: mockServiceUri(inputs.name),
    };
  });
});

const invokersOf = (folder: string) =>
  ofType(run.resources, 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember')
    .filter((m) => m.inputs.name === folder && m.inputs.role === 'roles/run.invoker')
    .map((m) => String(m.inputs.member));

describe('functions', () => {
  it('every folder under functions/ is in the catalog and deployed, and nothing else is', () => {
    expect(functionFolders.length).toBeGreaterThan(0);
    expect(Object.keys(FUNCTION_CATALOG).sort()).toEqual(functionFolders);
    expect(functions.map((f) => f.inputs.name).sort()).toEqual(functionFolders);
  });

  it.each(functionFolders)(
    '%s runs on nodejs22 from its own archive with the entry point it registers',
    (folder) => {
      const { buildConfig } = fnNamed(folder).inputs;
      expect(buildConfig.runtime).toBe('nodejs22');
      expect(buildConfig.entryPoint).toBe(registration(folder).target);
      expect(buildConfig.serviceAccount).toBe(
        `projects/${TEST_PROJECT}/serviceAccounts/ff-function-build@${TEST_PROJECT}.iam.gserviceaccount.com`,
      );
      const sourceBucket = ofType(run.resources, 'gcp:storage/bucket:Bucket').find((b) =>
        String(b.inputs.name).endsWith('-fleet-fn-source'),
      )!;
      expect(buildConfig.source.storageSource.bucket).toBe(sourceBucket.inputs.name);
      expect(buildConfig.source.storageSource.object).toMatch(new RegExp(`^${folder}/[0-9a-f]{16}\\.zip$`));
      const archive = ofType(run.resources, 'gcp:storage/bucketObject:BucketObject').find(
        (o) => o.inputs.name === buildConfig.source.storageSource.object,
      );
      expect(archive?.inputs.bucket).toBe(sourceBucket.inputs.name);
    },
  );

  it('each function runs as a service account of its own', () => {
    const accounts = ofType(run.resources, 'gcp:serviceaccount/account:Account').map(
      (a) => `${a.inputs.accountId}@${TEST_PROJECT}.iam.gserviceaccount.com`,
    );
    const used = functions.map((f) => f.inputs.serviceConfig.serviceAccountEmail);
    expect(new Set(used).size).toBe(functions.length);
    for (const email of used) expect(accounts).toContain(email);
    for (const f of functions) {
      expect(f.inputs.serviceConfig.serviceAccountEmail).toBe(
        `ff-${f.inputs.name}@${TEST_PROJECT}.iam.gserviceaccount.com`,
      );
    }
  });

  it.each(functionFolders)(
    '%s: an event function is fed by a retried, dead-lettered push; an HTTP one by nothing',
    (folder) => {
      const { url } = fnNamed(folder);
      const pushes = ofType(run.resources, 'gcp:pubsub/subscription:Subscription').filter((s) => {
        const push = s.inputs.pushConfig as { pushEndpoint?: string } | undefined;
        return push?.pushEndpoint?.startsWith(`${url}/`) ?? false;
      });
      if (registration(folder).signature === 'http') {
        expect(pushes).toEqual([]);
        return;
      }
      expect(pushes).toHaveLength(1);
      const push = pushes[0]!.inputs as {
        topic: string;
        pushConfig: { pushEndpoint: string; oidcToken: { serviceAccountEmail: string; audience: string } };
        retryPolicy: { minimumBackoff: string; maximumBackoff: string };
        deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number };
        ackDeadlineSeconds: number;
      };
      expect(push.topic).toBe('messaging-telemetry-raw-id');
      expect(push.pushConfig.pushEndpoint).toBe(`${url}/projects/${TEST_PROJECT}/topics/telemetry-raw`);
      expect(push.pushConfig.oidcToken.audience).toBe(url);
      expect(push.retryPolicy).toEqual({ minimumBackoff: '1s', maximumBackoff: '60s' });
      expect(push.deadLetterPolicy).toEqual({
        deadLetterTopic: 'messaging-telemetry-dlq-id',
        maxDeliveryAttempts: 20,
      });
      expect(push.ackDeadlineSeconds).toBeGreaterThanOrEqual(
        fnNamed(folder).inputs.serviceConfig.timeoutSeconds,
      );
      // The push's own identity may invoke the function, and only that one.
      expect(invokersOf(folder)).toEqual([`serviceAccount:${push.pushConfig.oidcToken.serviceAccountEmail}`]);
    },
  );

  it('only the ingest gateway may be invoked by allUsers, and its ingress admits only internal and load-balancer traffic', () => {
    const everyInvoker = [
      ...ofType(run.resources, 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember'),
      ...ofType(run.resources, 'gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding'),
      ...ofType(run.resources, 'gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember'),
      ...ofType(run.resources, 'gcp:cloudfunctionsv2/functionIamBinding:FunctionIamBinding'),
    ];
    const isPublic = (m: MockResource) =>
      [m.inputs.member, ...((m.inputs.members as string[] | undefined) ?? [])].some(
        (who) => who === 'allUsers' || who === 'allAuthenticatedUsers',
      );
    expect(everyInvoker.filter(isPublic).map((m) => m.inputs.name)).toEqual(['ingest-gateway']);
    expect(invokersOf('ingest-gateway')).toEqual(['allUsers']);
    for (const f of functions) {
      expect(f.inputs.serviceConfig.ingressSettings).toBe(
        f.inputs.name === 'ingest-gateway' ? 'ALLOW_INTERNAL_AND_GCLB' : 'ALLOW_INTERNAL_ONLY',
      );
    }
  });

  it('every function has an invoker policy: public, pushed to, called by the workflow, or named members only', () => {
    for (const folder of functionFolders) {
      const spec = FUNCTION_CATALOG[folder as keyof typeof FUNCTION_CATALOG];
      const invokers = invokersOf(folder);
      if (spec.public) expect(invokers).toEqual(['allUsers']);
      else expect(invokers.every((m) => m.startsWith('serviceAccount:') || m.startsWith('user:'))).toBe(true);
      if (spec.calledByWorkflow) {
        expect(invokers).toContain(
          `serviceAccount:ff-retrain-workflow@${TEST_PROJECT}.iam.gserviceaccount.com`,
        );
      }
    }
  });

  it('functions that use Redis reach it over Direct VPC egress with the URL and CA from Secret Manager', () => {
    const network = ofType(run.resources, 'gcp:compute/network:Network')[0]!;
    const subnet = ofType(run.resources, 'gcp:compute/subnetwork:Subnetwork')[0]!;
    for (const f of functions) {
      const service = f.inputs.serviceConfig;
      const redisUrl = service.secretEnvironmentVariables?.find((s) => s.key === 'REDIS_URL');
      const usesRedis =
        FUNCTION_CATALOG[f.inputs.name as keyof typeof FUNCTION_CATALOG].access.includes('redis');
      expect(redisUrl !== undefined, f.inputs.name).toBe(usesRedis);
      if (!usesRedis) {
        expect(service.directVpcNetworkInterfaces).toBeUndefined();
        continue;
      }
      expect(redisUrl).toMatchObject({ secret: 'redis-url', version: '1' });
      expect(service.directVpcNetworkInterfaces).toEqual([
        { network: `${network.name}-id`, subnetwork: `${subnet.name}-id` },
      ]);
      expect(service.directVpcEgress).toBe('VPC_EGRESS_PRIVATE_RANGES_ONLY');
      expect(service.secretVolumes).toEqual([
        expect.objectContaining({ mountPath: '/etc/secrets/redis-ca', secret: 'redis-ca' }),
      ]);
      expect(service.environmentVariables.NODE_EXTRA_CA_CERTS).toBe('/etc/secrets/redis-ca/ca.pem');
      expect(service.environmentVariables.REDIS_CLUSTER).toBe('false');
    }
  });

  it('no secret is a plain environment value or a stack output', () => {
    const plain = JSON.stringify([
      functions.map((f) => f.inputs.serviceConfig.environmentVariables),
      run.outputs,
    ]);
    for (const secret of [MOCK_REDIS_AUTH, MOCK_FLEET_SECRET, 'rediss://'])
      expect(plain).not.toContain(secret);
    const gateway = fnNamed('ingest-gateway').inputs.serviceConfig.secretEnvironmentVariables;
    expect(gateway?.find((s) => s.key === 'INGEST_FLEET_SECRET')).toMatchObject({
      secret: 'ingest-fleet-secret',
    });
    const versions = ofType(run.resources, 'gcp:secretmanager/secretVersion:SecretVersion');
    for (const version of versions) expect(version.secretInputs).toContain('secretData');
    const values = versions.map((v) => String(v.inputs.secretData));
    expect(values).toContain(`rediss://:${MOCK_REDIS_AUTH}@10.10.0.3:6378`);
    expect(values).toContain(MOCK_FLEET_SECRET);
  });

  it.each(functionFolders)('%s gets only variables shared/config.ts reads, and they load', (folder) => {
    const service = fnNamed(folder).inputs.serviceConfig;
    const names = Object.keys(service.environmentVariables).filter((n) => n !== 'NODE_EXTRA_CA_CERTS');
    for (const name of names) expect(CONFIG_VARIABLES).toContain(name);
    const secrets = Object.fromEntries(
      (service.secretEnvironmentVariables ?? []).map((s) => [
        s.key,
        s.key === 'REDIS_URL' ? `rediss://:${MOCK_REDIS_AUTH}@10.10.0.3:6378` : MOCK_FLEET_SECRET,
      ]),
    );
    const config = loadConfig({ ...service.environmentVariables, ...secrets });
    expect(config.projectId).toBe(TEST_PROJECT);
    expect(config.topics).toEqual({
      telemetry: 'telemetry-raw',
      deadLetter: 'telemetry-dlq',
      featureRows: 'feature-rows',
      alerts: 'alerts',
    });
    expect(config.model.bucket).toBe(`${TEST_PROJECT}-fleet-models`);
    expect(config.featuresBucket).toBe(`${TEST_PROJECT}-fleet-features`);
    if (folder === 'ingest-gateway') {
      expect(config.ingress.fleetSecrets).toEqual([MOCK_FLEET_SECRET]);
      expect(config.ingress.burst).toBeGreaterThanOrEqual(config.limits.maxBatchReadings);
    }
  });

  it('memory, concurrency and instances follow the catalog; the feature function serves concurrently for group commit', () => {
    for (const f of functions) {
      const expected = FUNCTION_CATALOG[f.inputs.name as keyof typeof FUNCTION_CATALOG].resources;
      expect(f.inputs.serviceConfig).toMatchObject({
        availableMemory: expected.memory,
        maxInstanceRequestConcurrency: expected.concurrency,
        minInstanceCount: expected.minInstances,
        maxInstanceCount: expected.maxInstances,
        timeoutSeconds: expected.timeoutS,
      });
    }
    expect(fnNamed('process-telemetry').inputs.serviceConfig.maxInstanceRequestConcurrency).toBeGreaterThan(
      1,
    );
    expect(fnNamed('trainer').inputs.serviceConfig.timeoutSeconds).toBeGreaterThanOrEqual(1800);
  });
});
