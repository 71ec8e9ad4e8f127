// redisMode: cluster switches the online store to Memorystore for Redis Cluster. There a script may
// touch keys of one hash slot only, so every command the engine, the gateway and the API send must
// name keys of one slot: the vehicle's hash tag. Checked on the real adapters against the test
// Redis, slot by slot with the function ioredis's Cluster client uses.

import calculateSlot from 'cluster-key-slot';
import { type Command, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisReadingStatus } from '../../shared/adapters/redis-reading-status.js';
import { RedisTokenBucket } from '../../shared/adapters/redis-token-bucket.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { encodeReadingArg, type ReadingValues } from '../../shared/windows/window-snapshot.js';
import { localServers } from '../helpers/local-servers.js';
import {
  MOCK_CLUSTER_PASSWORD,
  ofType,
  type ProgramRun,
  runFleetFeatures,
  TEST_PROJECT,
} from '../helpers/pulumi-program.js';

describe('the Redis Cluster switch', () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runFleetFeatures({ redisMode: 'cluster', redisClusterShards: 6, redisClusterReplicas: 1 });
  });

  it('provisions Memorystore for Redis Cluster with TLS and a password ACL user, and no single instance', () => {
    expect(ofType(run.resources, 'gcp:redis/instance:Instance')).toEqual([]);
    const [cluster] = ofType(run.resources, 'gcp:redis/cluster:Cluster');
    expect(cluster?.inputs).toMatchObject({
      shardCount: 6,
      replicaCount: 1,
      transitEncryptionMode: 'TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION',
      // AOF fsync on every write: no acknowledged dedupe mark is lost on a restart (npm run chaos).
      persistenceConfig: { mode: 'AOF', aofConfig: { appendFsync: 'ALWAYS' } },
      pscConfigs: [{ network: 'network-vpc-id' }],
      aclPolicy: `projects/${TEST_PROJECT}/locations/us-central1/aclPolicies/fleet-features`,
    });
    const [acl] = ofType(run.resources, 'gcp:redis/clusterAclPolicy:ClusterAclPolicy');
    expect(acl?.inputs.rules).toEqual([
      { username: 'fleet-features', rule: `on >${MOCK_CLUSTER_PASSWORD} ~* &* +@all` },
    ]);
    expect(acl?.secretInputs).toContain('rules');
    const [policy] = ofType(
      run.resources,
      'gcp:networkconnectivity/serviceConnectionPolicy:ServiceConnectionPolicy',
    );
    expect(policy?.inputs).toMatchObject({
      serviceClass: 'gcp-memorystore-redis',
      network: 'network-vpc-id',
    });
  });

  it('hands the functions the cluster endpoint and password only through the redis-url secret', () => {
    const urls = ofType(run.resources, 'gcp:secretmanager/secretVersion:SecretVersion').map((v) =>
      String(v.inputs.secretData),
    );
    expect(urls).toContain(`rediss://fleet-features:${MOCK_CLUSTER_PASSWORD}@10.20.0.9:6379`);
    const plain = JSON.stringify([
      ofType(run.resources, 'gcp:cloudfunctionsv2/function:Function').map((f) => f.inputs.serviceConfig),
      run.outputs,
    ]);
    expect(plain).not.toContain(MOCK_CLUSTER_PASSWORD);
  });

  it('tells the functions that reach Redis to use the Cluster client', () => {
    type Service = {
      environmentVariables: Record<string, string>;
      secretEnvironmentVariables?: { key: string }[];
    };
    const services = ofType(run.resources, 'gcp:cloudfunctionsv2/function:Function').map(
      (f) => f.inputs.serviceConfig as Service,
    );
    const withRedis = services.filter((s) =>
      (s.secretEnvironmentVariables ?? []).some((v) => v.key === 'REDIS_URL'),
    );
    expect(withRedis.length).toBeGreaterThan(0);
    for (const service of withRedis) expect(service.environmentVariables.REDIS_CLUSTER).toBe('true');
  });

  it('watches the cluster’s memory', () => {
    const filters = ofType(run.resources, 'gcp:monitoring/alertPolicy:AlertPolicy').flatMap((p) =>
      (p.inputs.conditions as { conditionThreshold?: { filter: string } }[]).map(
        (c) => c.conditionThreshold?.filter,
      ),
    );
    expect(filters.some((f) => f?.includes('redis.googleapis.com/cluster/memory/maximum_utilization'))).toBe(
      true,
    );
  });
});

describe('one hash slot per vehicle', () => {
  const vehicles = ['veh-00001', 'veh-00002', 'truck.42', 'A', 'bus_7-b'];
  let redis: Redis;
  /** The keys of every command sent, as ioredis's Cluster client would route them. */
  const sent: { name: string; keys: string[] }[] = [];

  beforeAll(() => {
    redis = new Redis(localServers().redisUrl, { maxRetriesPerRequest: 1 });
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command: Command, stream?: Parameters<Redis['sendCommand']>[1]) => {
      sent.push({ name: command.name, keys: command.getKeys().map(String) });
      return send(command, stream);
    };
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('every key of every engine, gateway and API command is in its vehicle’s slot', async () => {
    const store = new RedisWindowStore(redis, { allowedLatenessMs: 600_000, vehicleIdleTtlS: 60 });
    const status = new RedisReadingStatus(redis);
    const buckets = new RedisTokenBucket(redis, { ratePerS: 10, burst: 100 });
    const now = Date.now();
    for (const [i, vehicle] of vehicles.entries()) {
      const reading: ReadingValues = {
        event_ts_ms: now - 1000 * i,
        speed_kmh: 50,
        engine_temp_c: 90,
        gps_lat: 48,
        gps_lon: 11,
        fuel_level_pct: null,
        rpm: null,
      };
      sent.length = 0;
      await store.apply(vehicle, [{ eventId: `e-${vehicle}`, reading }], now);
      await store.markDurable(vehicle, [reading.event_ts_ms]);
      await status.readingStates(vehicle, [
        { eventTsMs: reading.event_ts_ms, fingerprint: encodeReadingArg(reading).readUInt32LE(56) },
      ]);
      await buckets.take(vehicle, 1);
      await store.latest([vehicle]);
      const keyed = sent.filter((c) => c.keys.length > 0);
      expect(keyed.length, vehicle).toBeGreaterThanOrEqual(4);
      for (const command of keyed) {
        for (const key of command.keys)
          expect(calculateSlot(key), `${command.name} ${key}`).toBe(calculateSlot(vehicle));
      }
      // The two keys of the window script in particular: fv:{id} and fv:{id}:t.
      expect(
        keyed.some((c) => c.keys.includes(`fv:{${vehicle}}`) && c.keys.includes(`fv:{${vehicle}}:t`)),
      ).toBe(true);
    }
  });

  it('vehicles spread over slots (the tag is the vehicle, not a constant)', () => {
    const slots = new Set(vehicles.map((v) => calculateSlot(`fv:{${v}}`)));
    expect(slots.size).toBe(vehicles.length);
  });
});
