/**
 * trainer: the retraining workflow's HTTP steps (data quality, train, gate, promote, run records).
 * Routes, request and answer shapes and error codes: shared/http/trainer-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { trainerRoutes } from '../../shared/http/trainer-routes.js';
import { fetchHttpFunction } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';
import { getModelRuntime } from '../../shared/runtime/model-runtime.js';
import { API_BODY_LIMIT_BYTES, guardRequestBodies } from '../../shared/runtime/request-body-guard.js';

installProcessLogging('trainer');
// Bodies are parsed by the app only: a malformed one gets a JSON error, never the framework's HTML page.
guardRequestBodies({ pathPrefix: '/v1/', maxBodyBytes: () => API_BODY_LIMIT_BYTES });

functions.http('trainer', fetchHttpFunction(trainerRoutes(getModelRuntime).fetch));
