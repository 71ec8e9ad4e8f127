/**
 * drift: population stability index per feature between the champion's training distribution and a
 * recent window (the workflow retrains when it drifted). Route: shared/http/drift-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { driftRoutes } from '../../shared/http/drift-routes.js';
import { fetchHttpFunction } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';
import { getModelRuntime } from '../../shared/runtime/model-runtime.js';
import { API_BODY_LIMIT_BYTES, guardRequestBodies } from '../../shared/runtime/request-body-guard.js';

installProcessLogging('drift');
// Bodies are parsed by the app only: a malformed one gets a JSON error, never the framework's HTML page.
guardRequestBodies({ pathPrefix: '/v1/', maxBodyBytes: () => API_BODY_LIMIT_BYTES });

functions.http('drift', fetchHttpFunction(driftRoutes(getModelRuntime).fetch));
