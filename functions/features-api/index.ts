/**
 * featuresApi: the online features API over HTTP (each vehicle's current vector, from Redis).
 * Routes and error codes: shared/http/online-features-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { onlineFeaturesRoutes } from '../../shared/http/online-features-routes.js';
import { fetchHttpFunction } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';
import { getOnlineRuntime } from '../../shared/runtime/online-runtime.js';
import { API_BODY_LIMIT_BYTES, guardRequestBodies } from '../../shared/runtime/request-body-guard.js';

installProcessLogging('featuresApi');
// Bodies are parsed by the app only: a malformed one gets a JSON error, never the framework's HTML page.
guardRequestBodies({ pathPrefix: '/v1/', maxBodyBytes: () => API_BODY_LIMIT_BYTES });

functions.http('featuresApi', fetchHttpFunction(onlineFeaturesRoutes(getOnlineRuntime).fetch));
