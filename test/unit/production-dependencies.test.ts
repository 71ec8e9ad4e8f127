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

const importPattern =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function specifiersOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(importPattern)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

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
    for (const specifier of specifiersOf(file)) {
      if (specifier.startsWith('.')) {
        const source = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
        if (!existsSync(source)) throw new Error(`${file} imports ${specifier}: no ${source}`);
        pending.push(source);
      } else if (!specifier.startsWith('node:')) {
        packages.add(packageOf(specifier));
      }
    }
  }
  return packages;
}

/** Packages imported anywhere else: the local stack, tests, benchmarks, scripts, infra. */
function packagesImportedOutsideFunctions(): Set<string> {
  const packages = new Set<string>();
  for (const dir of ['local', 'test', 'bench', 'scripts', 'infra']) {
    if (!existsSync(join(repoRoot, dir))) continue;
    const files = readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' }).filter(
      (name) => /\.ts$/.test(name) && !name.split(/[\\/]/).includes('node_modules'),
    );
    for (const name of files) {
      for (const specifier of specifiersOf(join(repoRoot, dir, name))) {
        if (!specifier.startsWith('.') && !specifier.startsWith('node:')) packages.add(packageOf(specifier));
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
    const listed = Object.keys(
      (JSON.parse(stdout) as { dependencies?: Record<string, unknown> }).dependencies ?? {},
    );
    const functionPackages = packagesImportedByFunctions();
    const localOrTestOnly = [...packagesImportedOutsideFunctions()].filter(
      (name) => !functionPackages.has(name),
    );
    // The check has teeth: the stand-ins' and the progress bar's packages are among them.
    expect(localOrTestOnly).toEqual(expect.arrayContaining(['@duckdb/node-api', 'cli-progress', 'vitest']));
    expect(listed.filter((name) => localOrTestOnly.includes(name))).toEqual([]);
    const allowed = [
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ];
    expect(listed.filter((name) => !allowed.includes(name))).toEqual([]);
    expect(Object.keys(manifest.dependencies).filter((name) => !listed.includes(name))).toEqual([]);
  });
});
