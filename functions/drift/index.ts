/**
 * drift: population stability index per feature between the champion's training distribution and a
 * recent window (the workflow retrains when it drifted). Route: shared/http/drift-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { driftRoutes } from '../../shared/http/drift-routes.js';
import { fetchHttpFunction } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';
import { getModelRuntime } from '../../shared/runtime/model-runtime.js';

installProcessLogging('drift');

functions.http('drift', fetchHttpFunction(driftRoutes(getModelRuntime).fetch));
