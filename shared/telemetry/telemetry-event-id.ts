import { createHash } from 'node:crypto';

/**
 * The id of a reading that came without one: a function of the vehicle and the normalized instant
 * only, so a re-send in another timestamp format or offset is recognized as the same reading.
 * 128 bits of sha256 make collisions between distinct readings negligible.
 */
export function deriveEventId(vehicleId: string, eventTsMs: number): string {
  const digest = createHash('sha256').update(`${vehicleId}\n${eventTsMs}`).digest('hex');
  return `d-${digest.slice(0, 32)}`;
}
