import type { Logger } from '../logger.js';
import type { DeadLetterSink } from '../ports/dead-letter.js';
import type { FeatureSink } from '../ports/feature-sink.js';
import type { WindowStore } from '../ports/window-store.js';
import { parseTelemetryMessage } from '../telemetry/index.js';
import { computeFeatureRows, type EngineResult } from './feature-engine.js';
import type { LateArchive } from './late-archive.js';

export interface FeatureServiceOptions {
  maxFutureSkewMs: number;
  maxBatchReadings: number;
  maxMessageBytes: number;
}

export interface FeatureServiceDeps {
  windows: WindowStore;
  /** Group-committed BigQuery + GCS sink: resolves when the rows are durable in both. */
  sink: FeatureSink;
  deadLetters: DeadLetterSink;
  lateArchive: LateArchive;
  clock: () => number;
  logger: Logger;
  options: FeatureServiceOptions;
}

export interface TelemetryMessage {
  data: Buffer;
  messageId: string;
  /** Pub/Sub publish time; names quarantine objects so a redelivery lands on the same name. */
  publishTimeMs?: number;
}

export interface MessageOutcome extends EngineResult {
  rejected: number;
}

/**
 * One telemetry message end to end: validate, quarantine what is invalid, apply the rest to the
 * vehicles' windows, and write their rows. Resolves only when everything is durable; any
 * transient failure rejects so Pub/Sub redelivers, and a redelivery yields the same rows (the
 * window store returns the stored snapshot for readings it has seen).
 */
export async function processTelemetryMessage(
  deps: FeatureServiceDeps,
  message: TelemetryMessage,
): Promise<MessageOutcome> {
  const nowMs = deps.clock();
  const parsed = parseTelemetryMessage(message.data, {
    nowMs,
    maxFutureSkewMs: deps.options.maxFutureSkewMs,
    maxBatch: deps.options.maxBatchReadings,
    maxBytes: deps.options.maxMessageBytes,
  });
  const quarantined =
    parsed.rejects.length > 0
      ? deps.deadLetters.quarantine({
          messageId: message.messageId,
          receivedAtMs: message.publishTimeMs ?? nowMs,
          rejects: parsed.rejects,
        })
      : Promise.resolve();
  // Awaited below with the sink writes; this only keeps an early failure from counting as unhandled.
  quarantined.catch(() => {});

  const engine = await computeFeatureRows(deps.windows, parsed.readings, nowMs, deps.logger);
  await Promise.all([
    engine.rows.length > 0 ? deps.sink.write(engine.rows) : undefined,
    deps.lateArchive.write(engine.late),
    quarantined,
  ]);
  return { ...engine, rejected: parsed.rejects.length };
}
