import type { FleetReplay } from './fleet-generator.js';

/**
 * Deliveries grouped as telematics units upload them: each vehicle sends what it collected over
 * `uploadEveryS` seconds (of the receiving clock) as one `{"readings": [...]}` message, which the
 * feature function applies in one script call. Groups keep delivery order within a vehicle and are
 * sent in the order of their first delivery.
 */
export function groupUploads(fleet: FleetReplay, uploadEveryS: number): number[][] {
  const periodMs = uploadEveryS * 1000;
  const open = new Map<string, { block: number; deliveries: number[] }>();
  const groups: number[][] = [];
  for (let i = 0; i < fleet.length; i++) {
    const vehicleId = fleet.reading(i).vehicle_id;
    const block = Math.floor(fleet.nowMs(i) / periodMs);
    const current = open.get(vehicleId);
    if (current && current.block === block) {
      current.deliveries.push(i);
    } else {
      const group = { block, deliveries: [i] };
      open.set(vehicleId, group);
      groups.push(group.deliveries);
    }
  }
  return groups;
}
