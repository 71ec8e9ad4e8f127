// `npm run bundle`: every function under functions/ bundled into dist/bundles/<folder>/ (see
// scripts/function-bundles.ts), with a table of sizes. `-- --out DIR` bundles into DIR instead.

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleFunctions } from './function-bundles.js';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

async function main(): Promise<void> {
  const repoRoot = resolve(import.meta.dirname, '..');
  const { values } = parseArgs({ args: process.argv.slice(2), options: { out: { type: 'string' } } });
  const outRoot = values.out === undefined ? join(repoRoot, 'dist', 'bundles') : resolve(values.out);
  const bundles = await bundleFunctions({ repoRoot, outRoot });
  const rows = bundles.map((b) => [
    b.folder,
    kib(b.files.find((f) => f.path === 'index.js')?.bytes ?? 0),
    kib(b.zipBytes),
    b.files
      .map((f) => f.path)
      .filter((p) => p !== 'index.js' && p !== 'package.json')
      .join(' '),
  ]);
  const header = ['function', 'index.js', 'zip', 'files beside index.js'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n\nbundles in ${outRoot}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bundle failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
