// A deploy ships the production `dependencies` with every function, so they must be exactly the
// packages the functions import (following imports from functions/*/index.ts through shared/);
// local stand-ins, the simulator, bench and tests keep theirs in devDependencies.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Packages imported by the functions' sources, found by following relative imports. */
function packagesImportedByFunctions(): Set<string> {
  const functionsDir = join(repoRoot, 'functions');
  const pending = readdirSync(functionsDir).map((folder) => join(functionsDir, folder, 'index.ts'));
  const visited = new Set<string>();
  const packages = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (visited.has(file)) continue;
    visited.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('.')) {
        const source = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
        if (!existsSync(source)) throw new Error(`${file} imports ${specifier}: no ${source}`);
        pending.push(source);
      } else if (!specifier.startsWith('node:')) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return packages;
}

describe('production dependencies', () => {
  it('are exactly the packages the functions import', () => {
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...packagesImportedByFunctions()].sort());
  });

  it('npm ls --omit=dev lists no local-only or test-only package', async () => {
    const { stdout } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--depth=0', '--json'], {
      cwd: repoRoot,
    });
    const installed = Object.keys(
      (JSON.parse(stdout) as { dependencies?: Record<string, unknown> }).dependencies ?? {},
    );
    const devOnly = Object.keys(manifest.devDependencies);
    expect(installed.filter((name) => devOnly.includes(name))).toEqual([]);
    const allowed = [
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ];
    expect(installed.filter((name) => !allowed.includes(name))).toEqual([]);
  });
});
