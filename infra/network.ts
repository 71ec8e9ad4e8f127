/**
 * The private network the functions reach Redis on: a VPC and one subnet in the region. Functions
 * attach with Direct VPC egress (an interface in this subnet, private ranges only), which needs no
 * connector instances; Memorystore peers with the VPC (or, for a cluster, is reached over Private
 * Service Connect in the same subnet).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

export interface NetworkArgs {
  project: string;
  region: string;
  subnetCidr: string;
  dependsOn: pulumi.Resource[];
}

export class Network extends pulumi.ComponentResource {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Network', name, {}, opts);
    const child = { parent: this, dependsOn: args.dependsOn };
    this.network = new gcp.compute.Network(
      `${name}-vpc`,
      {
        project: args.project,
        name: 'fleet-features',
        autoCreateSubnetworks: false,
        description: 'fleet-features: functions to Memorystore',
      },
      child,
    );
    this.subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        project: args.project,
        name: 'fleet-features-functions',
        region: args.region,
        network: this.network.id,
        ipCidrRange: args.subnetCidr,
        // Functions without a public address still reach Google APIs (Pub/Sub, BigQuery, GCS).
        privateIpGoogleAccess: true,
      },
      child,
    );
    this.registerOutputs({ network: this.network.id, subnet: this.subnet.id });
  }
}
