// The stack configuration: Pulumi.yaml declares every setting with the program's own defaults, the
// example stack file is valid, the program runs from `pulumi config` (infra/index.ts), refuses what
// it can't deploy, and each setting changes what it says it configures.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  InfraConfigError,
  InfraConfigSchema,
  parseInfraSettings,
  readInfraConfig,
} from '../../infra/config.js';
import {
  fakeBundles,
  installMocks,
  MOCK_FLEET_SECRET,
  ofType,
  resolved,
  runFleetFeatures,
  settled,
  TEST_PROJECT,
} from '../helpers/pulumi-program.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const DOMAIN = 'ingest.example.com';
/** Settings a stack may leave unset that Pulumi.yaml therefore can't declare (no default to give). */
const UNDECLARED = ['functions', 'ingestFleetSecretVersion', 'ingestFleetSecretPreviousVersion'];

interface Declaration {
  type?: string;
  default?: unknown;
  secret?: boolean;
}
const project = parseYaml(readFileSync(join(repoRoot, 'Pulumi.yaml'), 'utf8')) as {
  main: string;
  config: Record<string, Declaration>;
};

describe('Pulumi.yaml', () => {
  it('points at infra/ and declares every setting with the program’s default', () => {
    expect(project.main).toBe('infra/');
    const defaults = parseInfraSettings({ domain: DOMAIN });
    const settings = Object.keys(InfraConfigSchema.shape).filter((key) => !UNDECLARED.includes(key));
    const declared = Object.keys(project.config).filter((key) => !project.config[key]!.secret);
    expect(declared.sort()).toEqual(settings.sort());
    for (const key of settings) {
      const declaration = project.config[key]!;
      if (key === 'domain') {
        expect(declaration.default, 'domain has no default').toBeUndefined();
        continue;
      }
      // Values arrive as the CLI passes them; the program must read the declared default as its own.
      const value = parseInfraSettings({ domain: DOMAIN, [key]: declaration.default })[
        key as keyof typeof defaults
      ];
      expect(value, key).toEqual(defaults[key as keyof typeof defaults]);
    }
    expect(project.config.ingestFleetSecret).toMatchObject({ type: 'string', secret: true });
  });

  it('the example stack file is a valid configuration', () => {
    const example = parseYaml(readFileSync(join(repoRoot, 'Pulumi.example.yaml'), 'utf8')) as {
      config: Record<string, unknown>;
    };
    const settings = Object.fromEntries(
      Object.entries(example.config)
        .filter(([key]) => key.startsWith('fleet-features:'))
        .map(([key, value]) => [key.slice('fleet-features:'.length), value]),
    );
    const parsed = parseInfraSettings(settings);
    expect(parsed.domain).toBe('ingest.fleet.example.com');
    expect(parsed.functions.trainer?.memory).toBe('4Gi');
  });
});

describe('infra/index.ts', () => {
  it('runs on the stack’s configuration and exports the outputs a user needs', async () => {
    const resources = await installMocks();
    pulumi.runtime.setAllConfig(
      {
        'gcp:project': TEST_PROJECT,
        'fleet-features:domain': DOMAIN,
        'fleet-features:bundlesDir': fakeBundles(),
        'fleet-features:ingestFleetSecret': MOCK_FLEET_SECRET,
        'fleet-features:featuresApiInvokers': JSON.stringify(['group:analysts@example.com']),
        'fleet-features:protectData': 'false',
      },
      ['fleet-features:ingestFleetSecret'],
    );
    const program = await import('../../infra/index.js');
    expect(await resolved(program.ingestUrl)).toBe(`https://${DOMAIN}/v1/telemetry`);
    expect(await resolved(program.workflow)).toBe('retrain');
    await settled();
    expect(ofType(resources, 'gcp:cloudfunctionsv2/function:Function')).toHaveLength(5);
    const invokers = ofType(resources, 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember')
      .filter((m) => m.inputs.name === 'features-api')
      .map((m) => m.inputs.member);
    expect(invokers).toEqual(['group:analysts@example.com']);
    const table = ofType(resources, 'gcp:bigquery/table:Table').find((t) => t.inputs.tableId === 'features');
    expect(table?.inputs.deletionProtection).toBe(false);
  });
});

describe('secrets in the stack configuration', () => {
  const base = { 'gcp:project': TEST_PROJECT, 'fleet-features:domain': DOMAIN };

  it.each([
    ['the fleet secret', { ...base }, /ingestFleetSecret is required/],
    [
      'a Redis Cluster password in cluster mode',
      {
        ...base,
        'fleet-features:ingestFleetSecret': MOCK_FLEET_SECRET,
        'fleet-features:redisMode': 'cluster',
      },
      /redisClusterPassword is required/,
    ],
  ])('refuses to run without %s', async (_case, config, message) => {
    await installMocks();
    pulumi.runtime.setAllConfig(config, ['fleet-features:ingestFleetSecret']);
    expect(() => readInfraConfig()).toThrow(message);
  });

  it('reads them as secrets', async () => {
    await installMocks();
    pulumi.runtime.setAllConfig(
      {
        ...base,
        'fleet-features:ingestFleetSecret': MOCK_FLEET_SECRET,
        'fleet-features:redisMode': 'cluster',
        'fleet-features:redisClusterPassword': 'p'.repeat(40),
      },
      ['fleet-features:ingestFleetSecret', 'fleet-features:redisClusterPassword'],
    );
    const config = readInfraConfig();
    expect(await pulumi.isSecret(config.ingestFleetSecret)).toBe(true);
    expect(await pulumi.isSecret(config.redisClusterPassword!)).toBe(true);
    expect(await resolved(config.redisClusterPassword!)).toBe('p'.repeat(40));
  });
});

describe('configuration it refuses', () => {
  it.each([
    ['no domain', {}, /domain/],
    [
      'a memory size that is not one',
      { domain: DOMAIN, functions: { trainer: { memory: 'lots' } } },
      /functions\.trainer\.memory/,
    ],
    [
      'a function that does not exist',
      { domain: DOMAIN, functions: { 'no-such-function': {} } },
      /functions/,
    ],
    ['a public features API', { domain: DOMAIN, featuresApiInvokers: ['allUsers'] }, /featuresApiInvokers/],
    [
      'tiers out of order',
      { domain: DOMAIN, featuresNearlineDays: 100, featuresColdlineDays: 90 },
      /featuresNearlineDays/,
    ],
    ['an unknown key', { domain: DOMAIN, regoin: 'us-east1' }, /regoin|unrecognized/i],
  ])('%s', (_case, settings, message) => {
    expect(() => parseInfraSettings(settings)).toThrow(InfraConfigError);
    expect(() => parseInfraSettings(settings)).toThrow(message);
  });

  it('a deploy without the bundles, naming the command that makes them', async () => {
    await expect(
      runFleetFeatures({ bundlesDir: mkdtempSync(join(tmpdir(), 'no-bundles-')) }),
    ).rejects.toThrow(/npm run bundle/);
  });
});

describe('settings change what they configure', () => {
  it('partition expiry, tiering, Redis size, function resources and the alert channel', async () => {
    const run = await runFleetFeatures({
      partitionExpirationDays: 30,
      featuresNearlineDays: 7,
      featuresColdlineDays: 60,
      featuresArchiveDays: 180,
      quarantineDeleteDays: 3,
      redisTier: 'BASIC',
      redisMemoryGb: 2,
      alertEmail: 'oncall@example.com',
      functions: { trainer: { memory: '4Gi', timeoutS: 3600 }, 'process-telemetry': { concurrency: 250 } },
    });
    const table = ofType(run.resources, 'gcp:bigquery/table:Table').find(
      (t) => t.inputs.tableId === 'features',
    );
    expect(table?.inputs.timePartitioning).toMatchObject({ expirationMs: 30 * 86_400_000 });
    const features = ofType(run.resources, 'gcp:storage/bucket:Bucket').find(
      (b) => b.inputs.name === `${TEST_PROJECT}-fleet-features`,
    );
    const ages = (features!.inputs.lifecycleRules as { condition: { age: number } }[]).map(
      (r) => r.condition.age,
    );
    expect(ages).toEqual([7, 60, 180, 3]);
    expect(ofType(run.resources, 'gcp:redis/instance:Instance')[0]?.inputs).toMatchObject({
      tier: 'BASIC',
      memorySizeGb: 2,
    });
    const fn = (name: string) =>
      ofType(run.resources, 'gcp:cloudfunctionsv2/function:Function').find((f) => f.inputs.name === name)!
        .inputs.serviceConfig;
    expect(fn('trainer')).toMatchObject({ availableMemory: '4Gi', timeoutSeconds: 3600 });
    expect(fn('process-telemetry')).toMatchObject({
      maxInstanceRequestConcurrency: 250,
      availableMemory: '1Gi',
    });
    const [channel] = ofType(run.resources, 'gcp:monitoring/notificationChannel:NotificationChannel');
    expect(channel?.inputs).toMatchObject({ type: 'email', labels: { email_address: 'oncall@example.com' } });
    for (const policy of ofType(run.resources, 'gcp:monitoring/alertPolicy:AlertPolicy')) {
      expect(policy.inputs.notificationChannels).toEqual([`${channel?.name}-id`]);
    }
  });
});
