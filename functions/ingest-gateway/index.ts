/**
 * ingestGateway: devices POST signed telemetry over HTTPS (/v1/telemetry[?wait=true]); accepted
 * readings go to Pub/Sub telemetry-raw. Routes, checks and error codes: shared/ingress/.
 */
import * as functions from '@google-cloud/functions-framework';
import { errorResponse, retryAfterHeader } from '../../shared/ingress/ingress-response.js';
import { respondWithFetch, writeAnswer } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';
import { getIngressRuntime, ingressBodyLimit } from '../../shared/runtime/ingress-runtime.js';
import { guardRequestBodies } from '../../shared/runtime/request-body-guard.js';

const logger = installProcessLogging('ingestGateway');
// Before the framework reads a body: over-long bodies are refused unread, none is parsed but ours.
guardRequestBodies({ maxBodyBytes: ingressBodyLimit });

functions.http('ingestGateway', async (req, res) => {
  try {
    const runtime = await getIngressRuntime();
    await respondWithFetch(req, res, runtime.app.fetch);
  } catch (error) {
    logger.error({ err: error }, 'ingest gateway unavailable');
    if (res.headersSent) return;
    writeAnswer(
      res,
      errorResponse(503, 'unavailable', 'ingest gateway unavailable, retry later', {
        headers: retryAfterHeader(5000),
      }),
    );
  }
});
