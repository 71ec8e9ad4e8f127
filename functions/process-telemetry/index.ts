/**
 * processTelemetry: Pub/Sub (topic telemetry-raw) → rolling-window features → BigQuery + GCS.
 * Returning acknowledges the message; throwing makes Pub/Sub redeliver it with backoff. Invalid
 * readings are quarantined and acknowledged by the service, so only transient failures throw.
 */

import type { CloudEvent } from '@google-cloud/functions-framework';
import * as functions from '@google-cloud/functions-framework';
import { getFeatureRuntime } from '../../shared/runtime/feature-runtime.js';
import { installProcessLogging, withFailureLog } from '../../shared/runtime/function-logging.js';

// Push bodies are not ours: a field of the wrong type must read as absent, not throw.
interface MessagePublishedData {
  message?: { data?: unknown; messageId?: unknown; publishTime?: unknown; attributes?: unknown };
}
const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

const logger = installProcessLogging('processTelemetry');

functions.cloudEvent<MessagePublishedData>(
  'processTelemetry',
  withFailureLog('processTelemetry', logger, async (event: CloudEvent<MessagePublishedData>) => {
    const runtime = await getFeatureRuntime();
    const message = event.data?.message;
    const messageId = text(message?.messageId) ?? String(event.id);
    const publishTimeMs = Date.parse(text(message?.publishTime) ?? '');
    const traceparent = text((message?.attributes as { traceparent?: unknown } | undefined)?.traceparent);
    // The service logs what became of the message (with its trace, when it carries one).
    await runtime.processMessage({
      data: Buffer.from(text(message?.data) ?? '', 'base64'),
      messageId,
      ...(Number.isFinite(publishTimeMs) ? { publishTimeMs } : {}),
      ...(traceparent === undefined ? {} : { traceparent }),
    });
  }),
);
