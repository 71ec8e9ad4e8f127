import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { LateArchive, LateReading } from '../ports/late-archive.js';
import type { ObjectStore } from '../ports/object-store.js';

/**
 * Readings older than their vehicle's newest event time minus the allowed lateness are not
 * applied to windows; they are archived here (never silently dropped) and counted. One gzip
 * NDJSON object per message, named from its event ids so a redelivery rewrites nothing.
 */
export class GcsLateArchive implements LateArchive {
  constructor(private readonly objects: ObjectStore) {}

  async write(late: readonly LateReading[]): Promise<void> {
    if (late.length === 0) return;
    const lines = late.map(({ reading, processedTsMs }) =>
      JSON.stringify({
        ...reading.extra,
        event_id: reading.event_id,
        vehicle_id: reading.vehicle_id,
        event_ts: new Date(reading.event_ts_ms).toISOString(),
        processed_ts: new Date(processedTsMs).toISOString(),
        speed_kmh: reading.speed_kmh,
        engine_temp_c: reading.engine_temp_c,
        gps_lat: reading.gps_lat,
        gps_lon: reading.gps_lon,
        fuel_level_pct: reading.fuel_level_pct,
        rpm: reading.rpm,
        late: true,
        reason: 'beyond_allowed_lateness',
      }),
    );
    const ids = late.map(({ reading }) => reading.event_id).sort();
    const hash = createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 24);
    const day = new Date(late[0]!.reading.event_ts_ms).toISOString().slice(0, 10);
    await this.objects.putIfAbsent(
      `late/dt=${day}/late-${hash}.ndjson.gz`,
      gzipSync(lines.join('\n') + '\n'),
      {
        contentType: 'application/x-ndjson',
        contentEncoding: 'gzip',
      },
    );
  }
}
