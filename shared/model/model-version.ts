import { createHash } from 'node:crypto';

/** `v20261214T100000Z-1a2b3c4d`: the data interval's end, then a hash of run and interval. */
export const MODEL_VERSION_PATTERN = /^v\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/**
 * A model's version, derived from its run and data interval: listing sorts by the data trained on,
 * and a retried train call of the same run finds the version it already wrote (idempotent).
 */
export function modelVersionFor(runId: string, interval: { startMs: number; endMs: number }): string {
  const end = new Date(interval.endMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(/[-:]/g, '');
  const hash = createHash('sha256').update(`${runId}\n${interval.startMs}\n${interval.endMs}`).digest('hex');
  return `v${end}-${hash.slice(0, 8)}`;
}

export function isModelVersion(value: string): boolean {
  return MODEL_VERSION_PATTERN.test(value);
}
