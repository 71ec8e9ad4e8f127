// Device authentication (shared/ingress/request-signature.ts), pure: the documented scheme
// recomputed independently with node:crypto, replay bounds, rotation, and every way a signature
// can be wrong.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveDeviceKey,
  type SignatureHeaders,
  signRequest,
  stringToSign,
  verifyRequestSignature,
} from '../../shared/ingress/request-signature.js';

const OLD = 'old-fleet-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const NEW = 'new-fleet-secret-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const NOW = Date.UTC(2026, 2, 1, 8, 0, 0);
const BODY = Buffer.from(
  '{"vehicle_id":"veh-1","timestamp":1772352000,"speed_kmh":1,"engine_temp_c":1,"gps_lat":1,"gps_lon":1}',
);

function signed(secret: string, deviceId = 'veh-1', body: Uint8Array = BODY, nowMs = NOW): SignatureHeaders {
  const headers = signRequest({ deviceKey: deriveDeviceKey(secret, deviceId), deviceId, body, nowMs });
  return {
    deviceId: headers['x-device-id'],
    timestamp: headers['x-timestamp'],
    signature: headers['x-signature'],
  };
}

const verify = (
  headers: SignatureHeaders,
  options: { secrets?: string[]; body?: Uint8Array; nowMs?: number } = {},
) =>
  verifyRequestSignature({
    headers,
    body: options.body ?? BODY,
    fleetSecrets: options.secrets ?? [NEW],
    nowMs: options.nowMs ?? NOW,
    maxSkewMs: 300_000,
  });

describe('request signatures', () => {
  it('follows the documented scheme (recomputed with node:crypto alone)', () => {
    const key = createHmac('sha256', NEW).update('veh-1').digest();
    const canonical = [
      'FF1-HMAC-SHA256',
      String(NOW / 1000),
      'veh-1',
      'POST',
      '/v1/telemetry',
      createHash('sha256').update(BODY).digest('hex'),
    ].join('\n');
    expect(stringToSign('veh-1', String(NOW / 1000), createHash('sha256').update(BODY).digest('hex'))).toBe(
      canonical,
    );
    expect(deriveDeviceKey(NEW, 'veh-1')).toEqual(key);
    expect(signed(NEW).signature).toBe(createHmac('sha256', key).update(canonical).digest('hex'));
  });

  it('accepts a good signature, in upper case hex too, and says which secret matched', () => {
    expect(verify(signed(NEW))).toEqual({ ok: true, deviceId: 'veh-1', secretIndex: 0 });
    const upper = signed(NEW);
    expect(verify({ ...upper, signature: upper.signature!.toUpperCase() }).ok).toBe(true);
  });

  it('accepts both secrets during a rotation and only the new one after it', () => {
    expect(verify(signed(OLD), { secrets: [NEW, OLD] })).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verify(signed(NEW), { secrets: [NEW, OLD] })).toMatchObject({ ok: true, secretIndex: 0 });
    expect(verify(signed(OLD), { secrets: [NEW] })).toMatchObject({ ok: false, code: 'invalid_signature' });
  });

  it('bounds replay to the allowed clock skew, both ways', () => {
    expect(verify(signed(NEW), { nowMs: NOW + 299_000 }).ok).toBe(true);
    expect(verify(signed(NEW), { nowMs: NOW - 299_000 }).ok).toBe(true);
    expect(verify(signed(NEW), { nowMs: NOW + 301_000 })).toMatchObject({ code: 'timestamp_out_of_range' });
    expect(verify(signed(NEW), { nowMs: NOW - 301_000 })).toMatchObject({ code: 'timestamp_out_of_range' });
  });

  const good = signed(NEW);
  const otherBody = Buffer.from(`${BODY.toString()} `);
  it.each([
    [
      'no headers',
      { deviceId: undefined, timestamp: undefined, signature: undefined },
      BODY,
      'missing_signature',
    ],
    ['no signature', { ...good, signature: undefined }, BODY, 'missing_signature'],
    ['a device id outside the contract', { ...good, deviceId: 'veh 1' }, BODY, 'invalid_device_id'],
    [
      'a header injection in the device id',
      { ...good, deviceId: 'veh-1\r\nx-admin: 1' },
      BODY,
      'invalid_device_id',
    ],
    [
      'a timestamp that is not epoch seconds',
      { ...good, timestamp: '2026-03-01T08:00:00Z' },
      BODY,
      'malformed_signature',
    ],
    ['a huge timestamp', { ...good, timestamp: '9'.repeat(400) }, BODY, 'malformed_signature'],
    ['a short signature', { ...good, signature: good.signature!.slice(2) }, BODY, 'malformed_signature'],
    ['a signature that is not hex', { ...good, signature: 'z'.repeat(64) }, BODY, 'malformed_signature'],
    [
      'one flipped signature digit',
      { ...good, signature: `${good.signature!.slice(0, -1)}${good.signature!.endsWith('0') ? '1' : '0'}` },
      BODY,
      'invalid_signature',
    ],
    ['another body', good, otherBody, 'invalid_signature'],
    ['another device', { ...good, deviceId: 'veh-2' }, BODY, 'invalid_signature'],
    ['another timestamp', { ...good, timestamp: String(NOW / 1000 + 1) }, BODY, 'invalid_signature'],
  ] as const)('refuses %s', (_name, headers, body, code) => {
    expect(verify(headers, { body })).toMatchObject({ ok: false, code });
  });

  it('never accepts a key derived for another device', () => {
    const stolen = signRequest({
      deviceKey: deriveDeviceKey(NEW, 'veh-2'),
      deviceId: 'veh-1',
      body: BODY,
      nowMs: NOW,
    });
    expect(
      verify({ deviceId: 'veh-1', timestamp: stolen['x-timestamp'], signature: stolen['x-signature'] }),
    ).toMatchObject({ ok: false, code: 'invalid_signature' });
  });
});
