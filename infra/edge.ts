/**
 * The public edge of the ingest gateway: a global external Application Load Balancer (HTTPS only,
 * TLS 1.2+, a Google-managed certificate for `domain`) with a serverless NEG to the gateway, and a
 * Cloud Armor policy on its backend. The gateway's ingress is internal-and-load-balancer, so the
 * policy can't be bypassed through the function's own URL.
 *
 * Cloud Armor stops at the first rule that matches, and a rate-limit rule's conform action is
 * `allow`: two limiters on the same traffic would leave the second one dead. So the WAF rules come
 * first (nothing skips them), then requests that carry a device id are throttled per device id and
 * all others are rate-limited and banned per client IP. Unsigned or forged requests are answered 401
 * by the gateway before their body is read; its per-device token bucket (Redis) limits signed ones.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { SIGNATURE_HEADERS } from '../shared/ingress/request-signature.js';
import type { InfraConfig } from './config.js';

/** Preconfigured WAF rule sets (ModSecurity CRS 3.3), sensitivity 1: few false positives. */
export const WAF_RULE_SETS = [
  'sqli-v33-stable',
  'xss-v33-stable',
  'lfi-v33-stable',
  'rce-v33-stable',
] as const;
export const DEFAULT_RULE_PRIORITY = 2_147_483_647;

type Rule = gcp.types.input.compute.SecurityPolicyRule;

/** The policy's rules, in priority order (pure: the tests read them). */
export function securityPolicyRules(config: InfraConfig): Rule[] {
  const everyone = { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: ['*'] } };
  const deviceHeader = SIGNATURE_HEADERS.deviceId;
  const waf = WAF_RULE_SETS.map(
    (ruleSet, index): Rule => ({
      priority: 1000 + index,
      action: 'deny(403)',
      description: `WAF ${ruleSet}`,
      match: { expr: { expression: `evaluatePreconfiguredWaf('${ruleSet}', {'sensitivity': 1})` } },
    }),
  );
  return [
    ...waf,
    {
      priority: 2000,
      action: 'throttle',
      description: `throttle per device (${deviceHeader})`,
      match: { expr: { expression: `has(request.headers['${deviceHeader}'])` } },
      rateLimitOptions: {
        conformAction: 'allow',
        exceedAction: 'deny(429)',
        enforceOnKey: 'HTTP_HEADER',
        enforceOnKeyName: deviceHeader,
        rateLimitThreshold: {
          count: config.armorDeviceThrottleCount,
          intervalSec: config.armorDeviceThrottleIntervalS,
        },
      },
    },
    {
      priority: 3000,
      action: 'rate_based_ban',
      description: 'rate-based ban per client IP',
      match: everyone,
      rateLimitOptions: {
        conformAction: 'allow',
        exceedAction: 'deny(429)',
        enforceOnKey: 'IP',
        rateLimitThreshold: { count: config.armorBanCount, intervalSec: config.armorBanIntervalS },
        banThreshold: { count: config.armorBanCount, intervalSec: config.armorBanIntervalS },
        banDurationSec: config.armorBanDurationS,
      },
    },
    { priority: DEFAULT_RULE_PRIORITY, action: 'allow', description: 'default rule', match: everyone },
  ];
}

export interface EdgeArgs {
  config: InfraConfig;
  gateway: gcp.cloudfunctionsv2.Function;
  dependsOn: pulumi.Resource[];
}

export class Edge extends pulumi.ComponentResource {
  readonly address: gcp.compute.GlobalAddress;
  readonly securityPolicy: gcp.compute.SecurityPolicy;
  readonly backend: gcp.compute.BackendService;
  readonly ingestUrl: pulumi.Output<string>;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Edge', name, {}, opts);
    const { config } = args;
    const child = { parent: this, dependsOn: args.dependsOn };
    const project = config.project;
    this.address = new gcp.compute.GlobalAddress(
      `${name}-ip`,
      { project, name: 'fleet-features-ingest' },
      child,
    );
    this.securityPolicy = new gcp.compute.SecurityPolicy(
      `${name}-armor`,
      {
        project,
        name: 'fleet-features-ingest',
        type: 'CLOUD_ARMOR',
        description: 'WAF, per-device throttle, per-IP rate-based ban in front of the ingest gateway',
        adaptiveProtectionConfig: { layer7DdosDefenseConfig: { enable: true, ruleVisibility: 'STANDARD' } },
        rules: securityPolicyRules(config),
      },
      child,
    );
    const neg = new gcp.compute.RegionNetworkEndpointGroup(
      `${name}-neg`,
      {
        project,
        name: 'fleet-features-ingest',
        region: config.region,
        networkEndpointType: 'SERVERLESS',
        // A gen2 function is a Cloud Run service of the same name.
        cloudRun: { service: args.gateway.name },
      },
      child,
    );
    this.backend = new gcp.compute.BackendService(
      `${name}-backend`,
      {
        project,
        name: 'fleet-features-ingest',
        loadBalancingScheme: 'EXTERNAL_MANAGED',
        protocol: 'HTTPS',
        backends: [{ group: neg.id }],
        securityPolicy: this.securityPolicy.selfLink,
        // Cloud Armor decisions are in the request logs; a sample keeps their cost small at fleet rates.
        logConfig: { enable: true, sampleRate: 0.01 },
      },
      child,
    );
    const urlMap = new gcp.compute.URLMap(
      `${name}-urlmap`,
      { project, name: 'fleet-features-ingest', defaultService: this.backend.id },
      child,
    );
    const certificate = new gcp.compute.ManagedSslCertificate(
      `${name}-cert`,
      { project, name: 'fleet-features-ingest', managed: { domains: [config.domain] } },
      child,
    );
    const sslPolicy = new gcp.compute.SSLPolicy(
      `${name}-tls`,
      { project, name: 'fleet-features-ingest', profile: 'MODERN', minTlsVersion: 'TLS_1_2' },
      child,
    );
    const proxy = new gcp.compute.TargetHttpsProxy(
      `${name}-https-proxy`,
      {
        project,
        name: 'fleet-features-ingest',
        urlMap: urlMap.id,
        sslCertificates: [certificate.id],
        sslPolicy: sslPolicy.id,
      },
      child,
    );
    new gcp.compute.GlobalForwardingRule(
      `${name}-https`,
      {
        project,
        name: 'fleet-features-ingest-https',
        target: proxy.id,
        ipAddress: this.address.address,
        portRange: '443',
        ipProtocol: 'TCP',
        loadBalancingScheme: 'EXTERNAL_MANAGED',
      },
      child,
    );
    this.ingestUrl = pulumi.output(`https://${config.domain}/v1/telemetry`);
    this.registerOutputs({ ingestUrl: this.ingestUrl, address: this.address.address });
  }
}
