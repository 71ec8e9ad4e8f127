/**
 * Runs the Pulumi program (infra/program.ts) under Pulumi's mocks and hands back every resource it
 * registered, with its type, name and resolved inputs. The mocks answer what the cloud would compute
 * (emails, URLs, the Redis host and AUTH string) so outputs built from them resolve; nothing is
 * created anywhere.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { FUNCTION_FOLDERS } from '../../infra/function-catalog.js';

export const TEST_PROJECT = 'fleet-test-project';
export const TEST_PROJECT_NUMBER = '123456789012';
export const MOCK_REDIS_AUTH = 'mock-auth-string-0123456789';
export const MOCK_CLUSTER_PASSWORD = 'mock-cluster-password-0123456789';
export const MOCK_FLEET_SECRET = 'mock-fleet-secret-0123456789abcdef0123456789';

/** The Cloud Run URL the mocks give a gen2 function. */
export function mockServiceUri(functionName: string): string {
  return `https://${functionName}-mock0hash-uc.a.run.app`;
}

export interface MockResource {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs as the program passed them, Outputs resolved (secrets unwrapped). */
  inputs: Record<string, unknown>;
  /** Top-level inputs that were marked secret. */
  secretInputs: string[];
}

/** Pulumi's wire marker of a secret value. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_VALUE = '1b47061264138c4ac30d75fd1eb44270';
const isSecret = (value: unknown): value is { value: unknown } =>
  typeof value === 'object' &&
  value !== null &&
  (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;

function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

/** What the provider would compute for a resource, by type (only what the program reads). */
function computed(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const project = String(inputs.project ?? TEST_PROJECT);
  switch (type) {
    case 'gcp:serviceaccount/account:Account': {
      const email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
      return { email, name: `projects/${project}/serviceAccounts/${email}` };
    }
    case 'gcp:cloudfunctionsv2/function:Function':
      return {
        url: `https://${inputs.location}-${project}.cloudfunctions.net/${inputs.name}`,
        serviceConfig: { ...(inputs.serviceConfig as object), uri: mockServiceUri(String(inputs.name)) },
      };
    case 'gcp:projects/serviceIdentity:ServiceIdentity': {
      const agent = String(inputs.service).split('.')[0];
      const email = `service-${TEST_PROJECT_NUMBER}@gcp-sa-${agent}.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}` };
    }
    case 'gcp:redis/instance:Instance':
      return {
        host: '10.10.0.3',
        port: 6378,
        authString: MOCK_REDIS_AUTH,
        serverCaCerts: [{ cert: '-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----' }],
      };
    case 'gcp:redis/cluster:Cluster':
      return {
        discoveryEndpoints: [{ address: '10.20.0.9', port: 6379 }],
        managedServerCas: [
          { caCerts: [{ certificates: ['-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----'] }] },
        ],
      };
    case 'gcp:redis/clusterAclPolicy:ClusterAclPolicy':
      return { name: `projects/${project}/locations/${inputs.location}/aclPolicies/${inputs.aclPolicyId}` };
    case 'gcp:secretmanager/secretVersion:SecretVersion':
      return { version: '1' };
    case 'gcp:compute/globalAddress:GlobalAddress':
      return { address: '203.0.113.10' };
    case 'gcp:compute/securityPolicy:SecurityPolicy':
      return {
        selfLink: `https://www.googleapis.com/compute/v1/projects/${project}/global/securityPolicies/${inputs.name}`,
      };
    default:
      return {};
  }
}

/** A bundles folder with a stand-in index.js and package.json per function (what `npm run bundle` writes). */
export function fakeBundles(folders: readonly string[] = FUNCTION_FOLDERS): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bundles-'));
  for (const folder of folders) {
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'index.js'), `export const target = ${JSON.stringify(folder)};\n`);
    writeFileSync(join(dir, folder, 'package.json'), '{"type":"module"}\n');
  }
  return dir;
}

/** Installs the mocks; every resource registered from now on is pushed to the returned list. */
export async function installMocks(): Promise<MockResource[]> {
  const resources: MockResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const raw = args.inputs as Record<string, unknown>;
        const inputs = unwrapSecrets(raw) as Record<string, unknown>;
        const secretInputs = Object.keys(raw).filter((key) => containsSecret(raw[key]));
        resources.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs,
          secretInputs,
        });
        return { id: `${args.name}-id`, state: { ...inputs, ...computed(args.type, inputs) } };
      },
      call(args) {
        if (args.token === 'gcp:organizations/getProject:getProject') {
          return { number: TEST_PROJECT_NUMBER, projectId: TEST_PROJECT };
        }
        throw new Error(`no mock for the invoke ${args.token}`);
      },
    },
    'fleet-features',
    'test',
    false,
  );
  return resources;
}

/** Waits until every registration the program started has reached the mocks. */
export async function settled(): Promise<void> {
  const settings = (await import('@pulumi/pulumi/runtime/settings.js')) as unknown as {
    waitForRPCs?: () => Promise<void>;
  };
  if (settings.waitForRPCs === undefined) throw new Error('@pulumi/pulumi no longer exports waitForRPCs');
  await settings.waitForRPCs();
}

/** Resolves an Output (or a structure of them) to its value. */
export function resolved<T>(output: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => {
    pulumi.output(output).apply((value) => {
      resolve(value);
      return value;
    });
  });
}

/** Resources of one provider type (custom resources only). */
export function ofType(resources: readonly MockResource[], type: string): MockResource[] {
  return resources.filter((r) => r.custom && r.type === type);
}

/** Resource count by type, sorted by type. */
export function countByType(resources: readonly MockResource[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export interface ProgramRun {
  resources: MockResource[];
  /** The stack outputs, resolved. */
  outputs: Record<string, unknown>;
  config: import('../../infra/config.js').InfraConfig;
}

/** Runs infra/program.ts on `settings` (defaults for the rest) under the mocks. */
export async function runFleetFeatures(settings: Record<string, unknown> = {}): Promise<ProgramRun> {
  const { parseInfraSettings } = await import('../../infra/config.js');
  const { createFleetFeatures } = await import('../../infra/program.js');
  const resources = await installMocks();
  const parsed = parseInfraSettings({ domain: 'ingest.example.com', bundlesDir: fakeBundles(), ...settings });
  const config = {
    ...parsed,
    project: TEST_PROJECT,
    ingestFleetSecret: pulumi.secret(MOCK_FLEET_SECRET),
    redisClusterPassword: parsed.redisMode === 'cluster' ? pulumi.secret(MOCK_CLUSTER_PASSWORD) : undefined,
  };
  const outputs = (await resolved(createFleetFeatures(config))) as unknown as Record<string, unknown>;
  await settled();
  return { resources, outputs, config };
}
