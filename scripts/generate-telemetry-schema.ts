/**
 * Writes shared/telemetry/telemetry-v1.schema.json from the zod contract, formatted by Biome so
 * `npm run lint` stays clean. `--check` writes nothing and exits 1 when the committed file says
 * something else than the contract (compared as JSON, so formatting never counts).
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  buildTelemetryJsonSchema,
  renderTelemetryJsonSchema,
} from '../shared/telemetry/telemetry-json-schema.js';

const schemaFile = fileURLToPath(new URL('../shared/telemetry/telemetry-v1.schema.json', import.meta.url));
const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));

if (process.argv.includes('--check')) {
  const committed: unknown = JSON.parse(await readFile(schemaFile, 'utf8').catch(() => 'null'));
  if (!isDeepStrictEqual(committed, buildTelemetryJsonSchema())) {
    console.error(`${schemaFile} is stale: run npx tsx scripts/generate-telemetry-schema.ts`);
    process.exit(1);
  }
  console.log(`${schemaFile} is up to date`);
} else {
  await writeFile(schemaFile, renderTelemetryJsonSchema());
  execFileSync(biome, ['format', '--write', schemaFile], { stdio: 'ignore' });
  console.log(`wrote ${schemaFile}`);
}
