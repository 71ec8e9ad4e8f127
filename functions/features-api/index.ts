/**
 * featuresApi: the online features API over HTTP (each vehicle's current vector, from Redis).
 * Routes and error codes: shared/http/online-features-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { honoHttpFunction } from '../../shared/http/functions-hono.js';
import { onlineFeaturesRoutes } from '../../shared/http/online-features-routes.js';
import { getOnlineRuntime } from '../../shared/runtime/feature-runtime.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';

installProcessLogging('featuresApi');

functions.http('featuresApi', honoHttpFunction(onlineFeaturesRoutes(getOnlineRuntime)));
