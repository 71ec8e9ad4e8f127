/**
 * processTelemetry: Pub/Sub (topic telemetry-raw) → rolling-window features → BigQuery + GCS.
 * Returning acknowledges the message; throwing makes Pub/Sub redeliver it with backoff. Invalid
 * readings are quarantined and acknowledged by the service, so only transient failures throw.
 */

import type { CloudEvent } from '@google-cloud/functions-framework';
import * as functions from '@google-cloud/functions-framework';
import { getFeatureRuntime } from '../../shared/runtime/feature-runtime.js';

interface MessagePublishedData {
  message?: { data?: string; messageId?: string; publishTime?: string };
}

functions.cloudEvent<MessagePublishedData>(
  'processTelemetry',
  async (event: CloudEvent<MessagePublishedData>) => {
    const runtime = await getFeatureRuntime();
    const message = event.data?.message;
    const publishTimeMs = message?.publishTime ? Date.parse(message.publishTime) : Number.NaN;
    const outcome = await runtime.processMessage({
      data: Buffer.from(message?.data ?? '', 'base64'),
      messageId: message?.messageId ?? event.id,
      ...(Number.isFinite(publishTimeMs) ? { publishTimeMs } : {}),
    });
    runtime.logger.debug(
      {
        message_id: message?.messageId,
        applied: outcome.applied,
        duplicates: outcome.duplicates,
        conflicts: outcome.conflicts,
        late: outcome.lateCount,
        rejected: outcome.rejected,
      },
      'telemetry message processed',
    );
  },
);
