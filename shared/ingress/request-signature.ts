import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { VEHICLE_ID_PATTERN } from '../telemetry/telemetry-reading.js';

/**
 * Device authentication of the ingest gateway, both sides (the gateway verifies; the CLI, the
 * simulator, the bench and the tests sign). Pure: no clock, no I/O.
 *
 *   device key      = HMAC-SHA256(key = fleet secret (UTF-8), message = device id)   32 bytes
 *   string to sign  = "FF1-HMAC-SHA256\n" + timestamp + "\n" + device id + "\n"
 *                     + "POST\n/v1/telemetry\n" + lowercase hex SHA-256 of the body bytes
 *   X-Signature     = lowercase hex HMAC-SHA256(key = device key, message = string to sign)
 *
 * A device holds only its own key (provisioned as 64 hex characters), never the fleet secret.
 * The timestamp (epoch seconds) bounds replay to the allowed skew; the method and route are signed
 * so a signature is good for this endpoint only; the query (`?wait=true`) is not signed.
 */
export const SIGNATURE_SCHEME = 'FF1-HMAC-SHA256';
export const TELEMETRY_ROUTE = '/v1/telemetry';

export const SIGNATURE_HEADERS = {
  deviceId: 'x-device-id',
  timestamp: 'x-timestamp',
  signature: 'x-signature',
} as const;

export type SignatureFailure =
  | 'missing_signature'
  | 'invalid_device_id'
  | 'malformed_signature'
  | 'timestamp_out_of_range'
  | 'invalid_signature';

export type SignatureCheck =
  | {
      ok: true;
      deviceId: string /** 0: the current fleet secret, 1: the previous one. */;
      secretIndex: number;
    }
  | { ok: false; code: SignatureFailure; message: string };

export interface SignatureHeaders {
  deviceId: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;
const SIGNATURE_PATTERN = /^[0-9a-fA-F]{64}$/;

export function deriveDeviceKey(fleetSecret: string, deviceId: string): Buffer {
  return createHmac('sha256', fleetSecret).update(deviceId, 'utf8').digest();
}

export function bodySha256Hex(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function stringToSign(deviceId: string, timestampS: string, bodySha256: string): string {
  return `${SIGNATURE_SCHEME}\n${timestampS}\n${deviceId}\nPOST\n${TELEMETRY_ROUTE}\n${bodySha256}`;
}

function signatureBytes(deviceKey: Uint8Array, deviceId: string, timestampS: string, bodySha256: string) {
  return createHmac('sha256', deviceKey)
    .update(stringToSign(deviceId, timestampS, bodySha256))
    .digest();
}

/** The three headers of a signed request (names in SIGNATURE_HEADERS, lowercase). */
export function signRequest(args: {
  deviceKey: Uint8Array;
  deviceId: string;
  body: Uint8Array;
  nowMs: number;
}): Record<(typeof SIGNATURE_HEADERS)[keyof typeof SIGNATURE_HEADERS], string> {
  const timestampS = String(Math.floor(args.nowMs / 1000));
  const signature = signatureBytes(args.deviceKey, args.deviceId, timestampS, bodySha256Hex(args.body));
  return {
    [SIGNATURE_HEADERS.deviceId]: args.deviceId,
    [SIGNATURE_HEADERS.timestamp]: timestampS,
    [SIGNATURE_HEADERS.signature]: signature.toString('hex'),
  };
}

/**
 * Checks a request's signature against every accepted fleet secret (current first, then the one
 * being rotated out). Every secret is tried and compared in constant time whatever the outcome, so
 * timing tells nothing about which secret or how much of the signature matched.
 */
export function verifyRequestSignature(args: {
  headers: SignatureHeaders;
  body: Uint8Array;
  fleetSecrets: readonly string[];
  nowMs: number;
  maxSkewMs: number;
}): SignatureCheck {
  const { deviceId, timestamp, signature } = args.headers;
  if (deviceId === undefined || timestamp === undefined || signature === undefined) {
    return {
      ok: false,
      code: 'missing_signature',
      message: 'sign the request: X-Device-Id, X-Timestamp and X-Signature are required',
    };
  }
  if (!VEHICLE_ID_PATTERN.test(deviceId)) {
    return {
      ok: false,
      code: 'invalid_device_id',
      message: `X-Device-Id must match ${VEHICLE_ID_PATTERN.source}`,
    };
  }
  if (!TIMESTAMP_PATTERN.test(timestamp) || !SIGNATURE_PATTERN.test(signature)) {
    return {
      ok: false,
      code: 'malformed_signature',
      message: 'X-Timestamp must be epoch seconds and X-Signature 64 hex characters',
    };
  }
  const skewMs = Math.abs(Number(timestamp) * 1000 - args.nowMs);
  if (!(skewMs <= args.maxSkewMs)) {
    return {
      ok: false,
      code: 'timestamp_out_of_range',
      message: `X-Timestamp is more than ${Math.round(args.maxSkewMs / 1000)} s from the gateway's clock; check the device clock`,
    };
  }
  const given = Buffer.from(signature, 'hex');
  const bodyHash = bodySha256Hex(args.body);
  let matched = -1;
  args.fleetSecrets.forEach((secret, index) => {
    const expected = signatureBytes(deriveDeviceKey(secret, deviceId), deviceId, timestamp, bodyHash);
    if (timingSafeEqual(expected, given) && matched < 0) matched = index;
  });
  if (matched < 0) {
    return { ok: false, code: 'invalid_signature', message: 'the signature does not match' };
  }
  return { ok: true, deviceId, secretIndex: matched };
}
