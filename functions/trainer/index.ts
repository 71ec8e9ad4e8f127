/**
 * trainer: the retraining workflow's HTTP steps (data quality, train, gate, promote, run records).
 * Routes, request and answer shapes and error codes: shared/http/trainer-routes.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { trainerRoutes } from '../../shared/http/trainer-routes.js';
import { fetchHttpFunction } from '../../shared/runtime/fetch-bridge.js';
import { installProcessLogging } from '../../shared/runtime/function-logging.js';
import { getModelRuntime } from '../../shared/runtime/model-runtime.js';

installProcessLogging('trainer');

functions.http('trainer', fetchHttpFunction(trainerRoutes(getModelRuntime).fetch));
