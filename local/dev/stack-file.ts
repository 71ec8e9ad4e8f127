// Writes and reads `<data-dir>/stack.json` (local/dev/stack-endpoints.ts says what it holds).

import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STACK_FILE_NAME, type StackEndpoints } from './stack-endpoints.js';

export function stackFilePath(dataDir: string): string {
  return join(dataDir, STACK_FILE_NAME);
}

/** Written whole or not at all: a tool polling for the file never reads half of it. */
export async function writeStackFile(dataDir: string, endpoints: StackEndpoints): Promise<string> {
  const path = stackFilePath(dataDir);
  await writeFile(`${path}.tmp`, `${JSON.stringify(endpoints, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

export async function readStackFile(dataDir: string): Promise<StackEndpoints> {
  return JSON.parse(await readFile(stackFilePath(dataDir), 'utf8')) as StackEndpoints;
}
