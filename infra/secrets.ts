/**
 * A Secret Manager secret with one version holding `data` (a Pulumi secret Output, never a plain
 * value). Functions read it as a secret environment variable or a secret volume, so the value is in
 * no function configuration and no stack output.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

export interface SecretRef {
  secretId: pulumi.Output<string>;
  /** The version number functions pin (a change redeploys them). */
  version: pulumi.Output<string>;
  secret: gcp.secretmanager.Secret;
}

export function secretWithVersion(
  name: string,
  args: { project: string; secretId: string; data: pulumi.Output<string>; description: string },
  opts: pulumi.CustomResourceOptions,
): SecretRef {
  const secret = new gcp.secretmanager.Secret(
    name,
    {
      project: args.project,
      secretId: args.secretId,
      replication: { auto: {} },
      annotations: { description: args.description },
    },
    opts,
  );
  const version = new gcp.secretmanager.SecretVersion(
    `${name}-version`,
    // ABANDON: a replaced value leaves the old version in place (a rotation may still need it).
    { secret: secret.id, secretData: pulumi.secret(args.data), deletionPolicy: 'ABANDON' },
    opts,
  );
  return { secretId: secret.secretId, version: version.version, secret };
}
