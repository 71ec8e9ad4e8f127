/**
 * The Pulumi program (Pulumi.yaml: `main: infra/`): fleet-features on the stack's configuration.
 * Run `npm run bundle` first; see README "Deploy".
 */
import { readInfraConfig } from './config.js';
import { createFleetFeatures } from './program.js';

const outputs = createFleetFeatures(readInfraConfig());

export const ingestUrl = outputs.ingestUrl;
export const ingestIpAddress = outputs.ingestIpAddress;
export const topics = outputs.topics;
export const featuresTable = outputs.featuresTable;
export const featuresByIdentityView = outputs.featuresByIdentityView;
export const buckets = outputs.buckets;
export const workflow = outputs.workflow;
export const featuresApiUrl = outputs.featuresApiUrl;
