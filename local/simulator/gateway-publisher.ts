// `npm run dev --via-gateway 0.2`: part of the simulated fleet sends through the ingest gateway
// (signed HTTPS POSTs, as devices that cannot speak Pub/Sub do), the rest publishes to Pub/Sub
// directly. Which vehicles is a stable function of their id, so a vehicle always takes the same
// path. The gateway puts the readings on the same topic, so the pipeline and the run's summary
// see one fleet.

import { setTimeout as sleep } from 'node:timers/promises';
import { type PublishCallback, type PubSub, Topic } from '@google-cloud/pubsub';
import { deriveDeviceKey, signRequest, TELEMETRY_ROUTE } from '../../shared/ingress/request-signature.js';
import { VEHICLE_ID_PATTERN } from '../../shared/telemetry/index.js';
import { TRACEPARENT } from '../../shared/tracing/trace-context.js';

type MessageOptions = Parameters<Topic['publishMessage']>[0];

/** The local stack's fleet secret: public, for the local stack only (local/servers/function-servers.ts). */
export const LOCAL_FLEET_SECRET = 'local-stack-fleet-secret-not-for-production-0001';

const MAX_ATTEMPTS = 6;

/** FNV-1a of the id, as a share in [0, 1). */
function shareOf(vehicleId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < vehicleId.length; i++) hash = Math.imul(hash ^ vehicleId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) / 2 ** 32;
}

/** The vehicle a message of the simulator is from, if it is a reading or batch a gateway would take. */
function vehicleOf(data: Buffer): string | undefined {
  try {
    const value = JSON.parse(data.toString('utf8')) as {
      vehicle_id?: unknown;
      readings?: { vehicle_id?: unknown }[];
    };
    const id = Array.isArray(value.readings) ? value.readings[0]?.vehicle_id : value.vehicle_id;
    return typeof id === 'string' && VEHICLE_ID_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export interface GatewayRoute {
  /** Base URL of the ingest gateway. */
  url: string;
  /** Share of the vehicles that send through it, 0..1. */
  share: number;
  fleetSecret?: string;
}

/**
 * A telemetry topic whose messages from the gateway's share of the vehicles go through the
 * gateway instead; malformed messages (no legible vehicle) always go to Pub/Sub as sent. A 429 or
 * 503 is retried after its Retry-After (re-sending a reading is safe: it is its vehicle and
 * instant); any other refusal rejects, since the simulator's readings are valid.
 */
export class GatewaySplitTopic extends Topic {
  constructor(
    pubsub: PubSub,
    name: string,
    private readonly route: GatewayRoute,
  ) {
    super(pubsub, name);
  }

  override publishMessage(message: MessageOptions): Promise<string>;
  override publishMessage(message: MessageOptions, callback: PublishCallback): void;
  override publishMessage(message: MessageOptions, callback?: PublishCallback): Promise<string> | undefined {
    const data = message.data;
    const vehicleId = Buffer.isBuffer(data) ? vehicleOf(data) : undefined;
    if (
      callback !== undefined ||
      vehicleId === undefined ||
      !Buffer.isBuffer(data) ||
      shareOf(vehicleId) >= this.route.share
    ) {
      if (callback === undefined) return super.publishMessage(message);
      super.publishMessage(message, callback);
      return undefined;
    }
    return postSigned(this.route, vehicleId, data, message.attributes?.[TRACEPARENT]);
  }
}

/** POSTs one signed body (with its trace, when given) to the gateway; resolves once it answered 202. */
export async function postSigned(
  route: Pick<GatewayRoute, 'url' | 'fleetSecret'>,
  vehicleId: string,
  body: Buffer,
  traceparent?: string,
): Promise<string> {
  const deviceKey = deriveDeviceKey(route.fleetSecret ?? LOCAL_FLEET_SECRET, vehicleId);
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${route.url}${TELEMETRY_ROUTE}`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        ...(traceparent === undefined ? {} : { [TRACEPARENT]: traceparent }),
        ...signRequest({ deviceKey, deviceId: vehicleId, body, nowMs: Date.now() }),
      },
    });
    const text = await response.text();
    if (response.status === 202 || response.status === 200) return `gateway:${vehicleId}`;
    if ((response.status === 429 || response.status === 503) && attempt < MAX_ATTEMPTS) {
      await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
      continue;
    }
    throw new Error(`ingest gateway answered ${response.status}: ${text.slice(0, 300)}`);
  }
}

/**
 * The topic the simulator publishes to: the plain topic, or one that sends `share` of the fleet
 * through the gateway among `functions` (as started by local/servers/function-servers.ts).
 */
export function fleetTopic(
  pubsub: PubSub,
  name: string,
  functions: readonly { target: string; url: string }[],
  share: number,
): Topic {
  const gateway = functions.find((f) => f.target === 'ingestGateway');
  if (share <= 0 || gateway === undefined) return pubsub.topic(name);
  return new GatewaySplitTopic(pubsub, name, { url: gateway.url, share });
}
