/**
 * featuresApi: the online features API over HTTP (latest vector per vehicle, from Redis).
 * Routes and error codes live in shared/features/online-features.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { handleFeaturesRequest } from '../../shared/features/online-features.js';
import { getOnlineRuntime } from '../../shared/runtime/feature-runtime.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';

// Also the logger for failures before the runtime (and its configured logger) exists, e.g. invalid configuration.
const logger = installProcessLogging('featuresApi');

functions.http('featuresApi', async (req, res) => {
  try {
    const runtime = await getOnlineRuntime();
    const result = await handleFeaturesRequest(runtime.windows, {
      method: req.method,
      path: req.path,
      query: req.query as Record<string, string | string[] | undefined>,
      body: req.body,
    });
    res.status(result.status).json(result.body);
  } catch (error) {
    logger.error({ err: error }, 'features request failed');
    res.status(503).json({ error: { code: 'unavailable', message: 'feature store unavailable, retry' } });
  }
});
