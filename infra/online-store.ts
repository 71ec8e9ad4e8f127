/**
 * The online store: Memorystore for Redis with AUTH and in-transit encryption (TLS), or, with
 * `redisMode: cluster`, Memorystore for Redis Cluster (TLS, an ACL user with a password) for fleets
 * past one shard. Functions get the connection URL, AUTH included, from the secret `redis-url` (a
 * secret environment variable REDIS_URL) and the server CA from the secret `redis-ca` (a secret
 * volume that NODE_EXTRA_CA_CERTS points at), never as plain values.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.js';
import type { Network } from './network.js';
import { type SecretRef, secretWithVersion } from './secrets.js';

/** Where functions find the CA (a secret volume) and the variable that makes Node trust it. */
export const REDIS_CA_MOUNT = { mountPath: '/etc/secrets/redis-ca', file: 'ca.pem' } as const;
/** The ACL user the functions authenticate as on a Redis Cluster. */
export const REDIS_CLUSTER_USER = 'fleet-features';

export interface OnlineStoreArgs {
  config: InfraConfig;
  network: Network;
  dependsOn: pulumi.Resource[];
}

export class OnlineStore extends pulumi.ComponentResource {
  readonly redisUrl: SecretRef;
  readonly redisCa: SecretRef;
  /** For the memory alert: the monitored resource type and its id label's value. */
  readonly memoryMetric: { metricType: string; resourceType: string; filter: pulumi.Output<string> };

  constructor(name: string, args: OnlineStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:OnlineStore', name, {}, opts);
    const { config } = args;
    const child = { parent: this, dependsOn: args.dependsOn };
    const store =
      config.redisMode === 'cluster' ? this.#cluster(name, args, child) : this.#instance(name, args, child);
    this.memoryMetric = store.memoryMetric;
    this.redisUrl = secretWithVersion(
      `${name}-redis-url`,
      {
        project: config.project,
        secretId: 'redis-url',
        data: store.url,
        description: 'REDIS_URL of the fleet-features functions (rediss://, AUTH included)',
      },
      child,
    );
    this.redisCa = secretWithVersion(
      `${name}-redis-ca`,
      {
        project: config.project,
        secretId: 'redis-ca',
        data: store.ca,
        description: 'PEM of the Memorystore server CA (NODE_EXTRA_CA_CERTS of the functions)',
      },
      child,
    );
    this.registerOutputs({});
  }

  #instance(name: string, args: OnlineStoreArgs, child: pulumi.CustomResourceOptions) {
    const { config } = args;
    const instance = new gcp.redis.Instance(
      `${name}-redis`,
      {
        project: config.project,
        region: config.region,
        name: 'fleet-features',
        tier: config.redisTier,
        memorySizeGb: config.redisMemoryGb,
        redisVersion: config.redisVersion,
        authorizedNetwork: args.network.network.id,
        connectMode: 'DIRECT_PEERING',
        authEnabled: true,
        transitEncryptionMode: 'SERVER_AUTHENTICATION',
        // The only persistence the instance offers: a restart loses up to an hour of dedupe marks
        // (re-sends then write a second row, which features_by_identity hides). The cluster's AOF
        // ALWAYS loses none.
        persistenceConfig: { persistenceMode: 'RDB', rdbSnapshotPeriod: 'ONE_HOUR' },
        deletionProtection: config.protectData,
      },
      child,
    );
    const url = pulumi.interpolate`rediss://:${instance.authString.apply(encodeURIComponent)}@${instance.host}:${instance.port}`;
    return {
      url,
      ca: instance.serverCaCerts.apply((certs) => certs.map((c) => c.cert).join('\n')),
      memoryMetric: {
        metricType: 'redis.googleapis.com/stats/memory/usage_ratio',
        resourceType: 'redis_instance',
        filter: pulumi.interpolate`resource.type = "redis_instance" AND resource.label.instance_id = "${instance.id}"`,
      },
    };
  }

  #cluster(name: string, args: OnlineStoreArgs, child: pulumi.CustomResourceOptions) {
    const { config } = args;
    const password = config.redisClusterPassword;
    if (password === undefined) throw new Error('redisMode cluster needs redisClusterPassword');
    // Memorystore for Redis Cluster is reached over Private Service Connect: this policy lets it
    // create its endpoints in the functions' subnet.
    const policy = new gcp.networkconnectivity.ServiceConnectionPolicy(
      `${name}-redis-psc`,
      {
        project: config.project,
        location: config.region,
        name: 'fleet-features-redis',
        serviceClass: 'gcp-memorystore-redis',
        network: args.network.network.id,
        pscConfig: { subnetworks: [args.network.subnet.id] },
      },
      child,
    );
    const acl = new gcp.redis.ClusterAclPolicy(
      `${name}-redis-acl`,
      {
        project: config.project,
        location: config.region,
        aclPolicyId: 'fleet-features',
        rules: [
          {
            username: REDIS_CLUSTER_USER,
            rule: pulumi.secret(pulumi.interpolate`on >${password} ~* &* +@all`),
          },
        ],
      },
      child,
    );
    const cluster = new gcp.redis.Cluster(
      `${name}-redis-cluster`,
      {
        project: config.project,
        region: config.region,
        name: 'fleet-features',
        shardCount: config.redisClusterShards,
        replicaCount: config.redisClusterReplicas,
        nodeType: config.redisClusterNodeType,
        pscConfigs: [{ network: args.network.network.id }],
        transitEncryptionMode: 'TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION',
        aclPolicy: acl.name,
        persistenceConfig: { mode: 'AOF', aofConfig: { appendFsync: config.redisClusterAofFsync } },
        deletionProtectionEnabled: config.protectData,
      },
      { ...child, dependsOn: [...args.dependsOn, policy] },
    );
    const endpoint = cluster.discoveryEndpoints.apply((endpoints) => {
      const first = endpoints[0];
      if (first?.address === undefined) throw new Error('the Redis Cluster has no discovery endpoint yet');
      return { address: first.address, port: first.port ?? 6379 };
    });
    const url = pulumi.interpolate`rediss://${REDIS_CLUSTER_USER}:${password.apply(encodeURIComponent)}@${endpoint.address}:${endpoint.port}`;
    return {
      url,
      ca: cluster.managedServerCas.apply((cas) =>
        cas.flatMap((ca) => ca.caCerts.flatMap((chain) => chain.certificates)).join('\n'),
      ),
      memoryMetric: {
        metricType: 'redis.googleapis.com/cluster/memory/maximum_utilization',
        resourceType: 'redis.googleapis.com/Cluster',
        filter: pulumi.interpolate`resource.type = "redis.googleapis.com/Cluster" AND resource.label.cluster_id = "${cluster.name}"`,
      },
    };
  }
}
