import type { Logger } from '../logger.js';
import type { MessagePublisher } from '../ports/dead-letter.js';
import type { RiskAlerts } from '../ports/risk-alerts.js';
import type { FeatureRow } from '../rows/feature-row.js';
import type { RedisClient } from './redis-client.js';
import { vehicleKey } from './redis-window-store.js';

export interface RiskAlertOptions {
  topic: string;
  /** risk_score at or above this raises an alert. */
  threshold: number;
  /** An episode ends after this long without a high-risk row; the next one raises a new alert. */
  episodeMs: number;
}

/**
 * Alerts on the `alerts` topic, one per vehicle episode: the first high-risk row of a vehicle sets
 * `fv:{vehicle}:alert` (SET NX with the episode length) and publishes; later high-risk rows only
 * extend the episode. A failed publish clears the mark so the next high-risk row tries again, and
 * is logged, not thrown: the rows are already durable.
 */
export class RedisRiskAlerts implements RiskAlerts {
  constructor(
    private readonly redis: RedisClient,
    private readonly publisher: MessagePublisher,
    private readonly logger: Logger,
    private readonly options: RiskAlertOptions,
  ) {}

  async raise(rows: readonly FeatureRow[]): Promise<void> {
    const firstHighRisk = new Map<string, FeatureRow>();
    for (const row of rows) {
      if (row.risk_score === null || row.risk_score < this.options.threshold) continue;
      const seen = firstHighRisk.get(row.vehicle_id);
      if (seen === undefined || row.event_ts < seen.event_ts) firstHighRisk.set(row.vehicle_id, row);
    }
    await Promise.all([...firstHighRisk.values()].map((row) => this.#raiseOne(row)));
  }

  async #raiseOne(row: FeatureRow): Promise<void> {
    const key = `${vehicleKey(row.vehicle_id)}:alert`;
    try {
      const opened = await this.redis.set(key, row.event_ts, 'PX', this.options.episodeMs, 'NX');
      if (opened === null) {
        await this.redis.pexpire(key, this.options.episodeMs);
        return;
      }
      await this.publisher
        .publish(this.options.topic, Buffer.from(JSON.stringify(alertOf(row, this.options.threshold))), {
          vehicle_id: row.vehicle_id,
          model_version: row.model_version ?? '',
        })
        .catch(async (error: unknown) => {
          await this.redis.del(key);
          throw error;
        });
    } catch (error) {
      this.logger.warn({ err: error, vehicle_id: row.vehicle_id }, 'could not raise a risk alert');
    }
  }
}

function alertOf(row: FeatureRow, threshold: number) {
  return {
    vehicle_id: row.vehicle_id,
    event_id: row.event_id,
    event_ts: row.event_ts,
    risk_score: row.risk_score,
    threshold,
    model_version: row.model_version,
    engine_temp_c: row.engine_temp_c,
    temp_max_15m: row.temp_max_15m,
  };
}
