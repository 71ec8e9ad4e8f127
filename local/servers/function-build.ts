// The functions run from the build output (dist/), as a deploy ships them. Tests and tools that serve
// them call this first: it runs `npm run build` when an entry point is missing or older than the
// newest source under functions/ and shared/ (a stale build would test yesterday's code).

import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FUNCTIONS } from './function-servers.js';

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (/\.(ts|lua)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds dist/ if it is missing or stale; answers whether it built. */
export async function ensureFunctionsBuilt(repoRoot: string): Promise<boolean> {
  const sources = Math.max(
    newestSourceMs(join(repoRoot, 'functions')),
    newestSourceMs(join(repoRoot, 'shared')),
  );
  const oldestBuild = Math.min(
    ...FUNCTIONS.map((f) => builtMs(join(repoRoot, 'dist/functions', f.folder, 'index.js'))),
  );
  if (oldestBuild >= sources) return false;
  await promisify(execFile)('npm', ['run', 'build'], { cwd: repoRoot });
  return true;
}
