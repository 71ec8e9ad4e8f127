/**
 * featuresApi: the online features API over HTTP (each vehicle's current vector, from Redis).
 * Routes and error codes: shared/http/online-features-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { onlineFeaturesRoutes } from '../../shared/http/online-features-routes.js';
import { getOnlineRuntime } from '../../shared/runtime/feature-runtime.js';
import { fetchHttpFunction } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';

installProcessLogging('featuresApi');

functions.http('featuresApi', fetchHttpFunction(onlineFeaturesRoutes(getOnlineRuntime).fetch));
