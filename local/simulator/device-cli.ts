// `npm run device -- …`: a device by hand. Signs readings the way a vehicle's firmware would
// (README "Ingest gateway") and POSTs them to the ingest gateway, or prints the curl command that
// would.
//
//   npm run device -- key  --vehicle veh-00001
//   npm run device -- send --vehicle veh-00001 --url http://127.0.0.1:PORT [--count 5] [--wait]
//   npm run device -- send --vehicle veh-00001 --url … --file readings.json [--curl]
//
// The device key is HMAC-SHA256(fleet secret, vehicle id): pass it (--key, 64 hex, what a device
// holds) or let the CLI derive it from --fleet-secret, INGEST_FLEET_SECRET, or the local stack's.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config.js';
import { deriveDeviceKey, signRequest, TELEMETRY_ROUTE } from '../../shared/ingress/request-signature.js';
import { VEHICLE_ID_PATTERN } from '../../shared/telemetry/index.js';
import {
  formatTraceparent,
  parseTraceparent,
  startTrace,
  TRACEPARENT,
} from '../../shared/tracing/trace-context.js';
import { LOCAL_FLEET_SECRET } from './gateway-publisher.js';

const USAGE = `usage:
  npm run device -- key  --vehicle ID [--fleet-secret S]
  npm run device -- send --vehicle ID --url URL [--count 5] [--wait] [--file F.json] [--curl]
                         [--key HEX | --fleet-secret S] [--traceparent 00-TRACE-SPAN-01]
    --vehicle       the device (vehicle) id that signs, and of the readings generated
    --url           the gateway's base URL (npm run dev prints it: ingestGateway … at http://127.0.0.1:PORT)
    --count         readings to generate, one second apart, ending now (default 5; 1 = a single reading)
    --file          send this JSON body instead (one reading or {"readings": [...]}), as it is
    --wait          POST ?wait=true: answer once the features are computed, with the rows
    --curl          print the signed curl command instead of sending (valid for 5 minutes)
    --key           the device key, 64 hex characters
    --fleet-secret  derive the device key from this fleet secret (default INGEST_FLEET_SECRET, else the local stack's)
    --traceparent   the W3C trace context to send (default: a new, sampled trace); its trace id is
                    printed, to follow the readings in the feature function's log`;

function fail(message: string): never {
  console.error(`npm run device: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function deviceKey(
  values: { key?: string | undefined; 'fleet-secret'?: string | undefined },
  vehicle: string,
): Buffer {
  if (values.key !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(values.key)) fail('--key must be 64 hex characters');
    return Buffer.from(values.key, 'hex');
  }
  const secret = values['fleet-secret'] ?? loadConfig().ingress.fleetSecrets[0] ?? LOCAL_FLEET_SECRET;
  return deriveDeviceKey(secret, vehicle);
}

function generated(vehicle: string, count: number): string {
  const now = Date.now();
  const readings = Array.from({ length: count }, (_, i) => {
    const ageS = count - 1 - i;
    return {
      vehicle_id: vehicle,
      timestamp: new Date(now - ageS * 1000).toISOString(),
      speed_kmh: Math.round((40 + 20 * Math.sin(i / 3)) * 10) / 10,
      engine_temp_c: Math.round((88 + Math.random() * 6) * 10) / 10,
      gps_lat: Math.round((48.137 + i * 1e-4) * 1e6) / 1e6,
      gps_lon: 11.575,
    };
  });
  return JSON.stringify(count === 1 ? readings[0] : { readings });
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      vehicle: { type: 'string' },
      url: { type: 'string' },
      count: { type: 'string', default: '5' },
      file: { type: 'string' },
      wait: { type: 'boolean', default: false },
      curl: { type: 'boolean', default: false },
      key: { type: 'string' },
      'fleet-secret': { type: 'string' },
      traceparent: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return;
  }
  const vehicle = values.vehicle ?? fail('--vehicle is required');
  if (!VEHICLE_ID_PATTERN.test(vehicle)) fail(`--vehicle must match ${VEHICLE_ID_PATTERN.source}`);
  const key = deviceKey(values, vehicle);
  if (command === 'key') {
    console.log(key.toString('hex'));
    return;
  }
  if (command !== 'send') fail(`unknown command ${command}`);
  const url = values.url ?? fail('--url is required');
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 500) fail('--count must be 1..500');
  const body = Buffer.from(values.file === undefined ? generated(vehicle, count) : readFileSync(values.file));
  const trace = values.traceparent === undefined ? startTrace(true) : parseTraceparent(values.traceparent);
  if (trace === undefined) fail('--traceparent must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>');
  console.error(`trace ${trace.traceId}`);
  const headers = {
    'content-type': 'application/json',
    [TRACEPARENT]: formatTraceparent(trace),
    ...signRequest({ deviceKey: key, deviceId: vehicle, body, nowMs: Date.now() }),
  };
  const target = `${url.replace(/\/+$/, '')}${TELEMETRY_ROUTE}${values.wait ? '?wait=true' : ''}`;
  if (values.curl) {
    const flags = Object.entries(headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`);
    console.log(
      `curl -sS -i -X POST ${shellQuote(target)} ${flags.join(' ')} --data-binary ${shellQuote(body.toString('utf8'))}`,
    );
    return;
  }
  const response = await fetch(target, { method: 'POST', headers, body });
  const text = await response.text();
  const retryAfter = response.headers.get('retry-after');
  console.log(`HTTP ${response.status}${retryAfter ? ` (Retry-After: ${retryAfter} s)` : ''}`);
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  if (response.status >= 400) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`npm run device: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
