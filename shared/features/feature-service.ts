import type { FreshnessRecorder } from '../freshness/freshness-report.js';
import type { Logger } from '../logger.js';
import type { DeadLetterSink } from '../ports/dead-letter.js';
import type { FeatureSink } from '../ports/feature-sink.js';
import type { LateArchive } from '../ports/late-archive.js';
import type { ModelScoring } from '../ports/model-scoring.js';
import type { RiskAlerts } from '../ports/risk-alerts.js';
import type { WindowStore } from '../ports/window-store.js';
import type { FeatureRow } from '../rows/feature-row.js';
import { parseTelemetryMessage } from '../telemetry/index.js';
import {
  childSpan,
  cloudLoggingTraceFields,
  formatTraceparent,
  parseTraceparent,
  type TraceContext,
} from '../tracing/trace-context.js';
import { computeFeatureRows, type EngineResult } from './feature-engine.js';
import { scoreRows } from './risk-scoring.js';

export interface FeatureServiceOptions {
  maxFutureSkewMs: number;
  maxBatchReadings: number;
  maxMessageBytes: number;
}

export interface FeatureServiceDeps {
  windows: WindowStore;
  /** Group-committed BigQuery + feature-rows topic: resolves when the rows are durable in both. */
  sink: FeatureSink;
  deadLetters: DeadLetterSink;
  lateArchive: LateArchive;
  /** The champion model; without it rows carry null model_version and risk_score. */
  models?: ModelScoring;
  /** High-risk rows raise alerts once durable. */
  alerts?: RiskAlerts;
  /** Event and publish time to online and durable, per row (shared/freshness/). */
  freshness?: FreshnessRecorder;
  clock: () => number;
  logger: Logger;
  /** The project the log lines' trace field names (`projects/<id>/traces/<trace id>`). */
  projectId: string;
  options: FeatureServiceOptions;
}

export interface TelemetryMessage {
  data: Buffer;
  messageId: string;
  /** Pub/Sub publish time; names quarantine objects so a redelivery lands on the same name. */
  publishTimeMs?: number;
  /** The message's W3C `traceparent` attribute as sent; ignored unless valid. */
  traceparent?: string;
}

/** A sampled message's line names the rows it wrote, up to this many. */
const MAX_LOGGED_EVENT_IDS = 20;
const MAX_LOGGED_ID_CHARS = 256;

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
  const parent = parseTraceparent(message.traceparent);
  const span = parent === undefined ? undefined : childSpan(parent);
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
          ...(span === undefined ? {} : { traceparent: formatTraceparent(span) }),
        })
      : Promise.resolve();
  // Awaited below with the sink writes; this only keeps an early failure from counting as unhandled.
  quarantined.catch(() => {});

  const engine = await computeFeatureRows(
    deps.windows,
    parsed.readings,
    nowMs,
    deps.logger,
    deps.models?.currentVersion() ?? null,
  );
  const { freshness } = deps;
  freshness?.online(engine.appliedEventTsMs, message.publishTimeMs, deps.clock());
  if (deps.models) await scoreRows(engine.rows, deps.models);
  await Promise.all([
    engine.rows.length > 0
      ? deps.sink.write(engine.rows).then(() => {
          freshness?.durable(
            engine.rows.map((row) => Date.parse(row.event_ts)),
            message.publishTimeMs,
            deps.clock(),
          );
          return Promise.all([forgetDurableRows(deps, engine.rows), deps.alerts?.raise(engine.rows)]);
        })
      : undefined,
    deps.lateArchive.write(engine.late),
    quarantined,
  ]);
  const outcome = { ...engine, rejected: parsed.rejects.length };
  freshness?.readings({
    applied: outcome.applied,
    duplicates: outcome.duplicates,
    conflicts: outcome.conflicts,
    late: outcome.lateCount,
    rejected: outcome.rejected,
  });
  logMessageOutcome(deps, message, outcome, span);
  return outcome;
}

/**
 * One line per message: what became of its readings. At DEBUG (a line per message would be the
 * largest log volume of the pipeline), at INFO when the message's trace is sampled, so a reading
 * sent with a sampled `traceparent` can be followed: the line carries Cloud Logging's trace fields.
 */
function logMessageOutcome(
  deps: FeatureServiceDeps,
  message: TelemetryMessage,
  outcome: MessageOutcome,
  span: TraceContext | undefined,
): void {
  const level = span?.sampled ? 'info' : 'debug';
  if (!deps.logger.isLevelEnabled(level)) return;
  deps.logger[level](
    {
      ...(span === undefined ? {} : cloudLoggingTraceFields(span, deps.projectId)),
      message_id: message.messageId.slice(0, MAX_LOGGED_ID_CHARS),
      applied: outcome.applied,
      duplicates: outcome.duplicates,
      conflicts: outcome.conflicts,
      late: outcome.lateCount,
      rejected: outcome.rejected,
      event_ids: outcome.rows.map((row) => row.event_id).slice(0, MAX_LOGGED_EVENT_IDS),
    },
    'telemetry message processed',
  );
}

/**
 * The rows are durable: the store keeps only their dedupe marks from now on, so a re-send writes
 * nothing again. A failure here loses nothing (the stored rows expire with the vehicle's state; a
 * re-send meanwhile rewrites the same row), so it is logged, not thrown: throwing would make
 * Pub/Sub redeliver a message whose rows are already written.
 */
async function forgetDurableRows(deps: FeatureServiceDeps, rows: readonly FeatureRow[]): Promise<void> {
  if (rows.length === 0) return;
  const byVehicle = new Map<string, number[]>();
  for (const row of rows) {
    const eventTs = Date.parse(row.event_ts);
    const list = byVehicle.get(row.vehicle_id);
    if (list) list.push(eventTs);
    else byVehicle.set(row.vehicle_id, [eventTs]);
  }
  const results = await Promise.allSettled(
    [...byVehicle].map(([vehicleId, eventTs]) => deps.windows.markDurable(vehicleId, eventTs)),
  );
  const failed = results.filter((result) => result.status === 'rejected');
  if (failed.length > 0) {
    deps.logger.warn(
      { err: (failed[0] as PromiseRejectedResult).reason, vehicles: failed.length },
      'could not drop durable rows from the window store; they expire with the vehicle state',
    );
  }
}
