// Bundles each deployable function (functions/<folder>/index.ts) with esbuild into its own folder,
// dist/bundles/<folder>/: index.js, the files its modules read at run time, and a package.json whose
// only dependency is functions-framework. infra/ uploads each folder as the function's source archive.

import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { EXPECTATIONS_RELATIVE_PATH } from '../shared/runtime/model-runtime.js';

export const FRAMEWORK_PACKAGE = '@google-cloud/functions-framework';

/**
 * Where functions-framework lives. `dependency` (what deploys): left out of the bundle and listed as
 * the package's only dependency, so the framework that Cloud Functions starts and the function share
 * one registry. `bundled`: the framework's entry point is bundled too and the bundle starts the
 * server itself (`node index.js --target=...`); measured by the cold-start bench only, since Cloud
 * Functions starts its own framework, whose registry would not see a function registered in a copy.
 */
export type FrameworkPlacement = 'dependency' | 'bundled';

export interface BundleFile {
  /** Path inside the bundle folder, with `/`. */
  path: string;
  bytes: number;
}

export interface FunctionBundle {
  folder: string;
  dir: string;
  files: BundleFile[];
  /** Sum of the files' sizes. */
  bytes: number;
  /** Size of the folder as a deflated zip archive (what infra uploads). */
  zipBytes: number;
  dependencies: Record<string, string>;
}

/**
 * Files that a module reads at run time from a path outside the `new URL('./x', import.meta.url)`
 * form: model-runtime finds the expectations file by walking up from itself, so the bundle carries
 * it at the same path relative to the bundle's root.
 */
const RUNTIME_FILES: readonly { module: string; file: string }[] = [
  { module: 'shared/runtime/model-runtime.ts', file: EXPECTATIONS_RELATIVE_PATH },
];

/** A module reading a file beside itself: `new URL('./apply-readings.lua', import.meta.url)`. */
const SIBLING_FILE_URL = /new URL\(\s*'\.\/([^'/]+)'\s*,\s*import\.meta\.url\s*\)/g;

// Bundled CommonJS packages call require() and read __dirname; an ES module has neither.
const ESM_PRELUDE = [
  "import { createRequire as __bundleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
  "import { dirname as __bundleDirname } from 'node:path';",
  'const require = __bundleCreateRequire(import.meta.url);',
  'const __filename = __bundleFileURLToPath(import.meta.url);',
  'const __dirname = __bundleDirname(__filename);',
].join('\n');

export class BundleError extends Error {
  readonly code = 'bundle_failed';
}

/** Every folder under functions/ with an index.ts: the deployable functions. */
export async function discoverFunctionFolders(repoRoot: string): Promise<string[]> {
  const entries = await readdir(join(repoRoot, 'functions'), { withFileTypes: true });
  const folders: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const index = await stat(join(repoRoot, 'functions', entry.name, 'index.ts')).catch(() => undefined);
    if (index?.isFile()) folders.push(entry.name);
  }
  return folders.sort();
}

async function frameworkVersion(repoRoot: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const version = manifest.dependencies?.[FRAMEWORK_PACKAGE];
  if (version === undefined) throw new BundleError(`package.json has no dependency on ${FRAMEWORK_PACKAGE}`);
  return version;
}

/** The framework's server entry point (its exports map hides it, so by path). */
function frameworkMain(repoRoot: string): string {
  const index = createRequire(join(repoRoot, 'package.json')).resolve(FRAMEWORK_PACKAGE);
  return join(dirname(index), 'main.js');
}

/** The run-time files of the bundled modules: bundle-relative path → source file. */
async function runtimeFiles(repoRoot: string, metafile: Metafile): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const add = (target: string, source: string) => {
    const previous = files.get(target);
    if (previous !== undefined && previous !== source) {
      throw new BundleError(`two modules read different files as ${target}: ${previous} and ${source}`);
    }
    files.set(target, source);
  };
  for (const input of Object.keys(metafile.inputs)) {
    if (input.includes('node_modules') || !/\.[cm]?ts$/.test(input)) continue;
    const path = resolve(repoRoot, input);
    const text = await readFile(path, 'utf8');
    for (const match of text.matchAll(SIBLING_FILE_URL)) {
      // After bundling, import.meta.url is the bundle's index.js: the file goes beside it.
      add(match[1]!, join(dirname(path), match[1]!));
    }
    const module = relative(repoRoot, path).split(sep).join('/');
    for (const rule of RUNTIME_FILES) {
      if (rule.module === module) add(rule.file, join(repoRoot, rule.file));
    }
  }
  return files;
}

/** Size of a zip archive of these files, deflated: headers (30 + 46 bytes + name twice) + data. */
export function zipSize(files: readonly { path: string; data: Buffer }[]): number {
  const end = 22;
  return files.reduce((total, { path, data }) => {
    const name = Buffer.byteLength(path);
    const stored = Math.min(data.length, deflateRawSync(data).length);
    return total + 30 + 46 + 2 * name + stored;
  }, end);
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      return entry.isDirectory() ? listFiles(dir, path) : Promise.resolve([path]);
    }),
  );
  return nested.flat().sort();
}

export async function bundleFunction(options: {
  repoRoot: string;
  folder: string;
  /** Bundles go to <outRoot>/<folder>/. */
  outRoot: string;
  framework?: FrameworkPlacement;
  minify?: boolean;
}): Promise<FunctionBundle> {
  const { repoRoot, folder } = options;
  const framework = options.framework ?? 'dependency';
  const dir = join(options.outRoot, folder);
  const entry = join(repoRoot, 'functions', folder, 'index.ts');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  const result = await build({
    ...(framework === 'dependency'
      ? { entryPoints: [entry], external: [FRAMEWORK_PACKAGE] }
      : {
          // The function registers, then the framework's main parses argv, imports --source (this
          // very module, already loaded) and serves.
          stdin: {
            contents: `import ${JSON.stringify(entry)};\nimport ${JSON.stringify(frameworkMain(repoRoot))};\n`,
            resolveDir: repoRoot,
            sourcefile: `<${folder} with functions-framework>`,
            loader: 'ts',
          },
        }),
    absWorkingDir: repoRoot,
    outfile: join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: ESM_PRELUDE },
    // Whitespace and syntax only: stack traces in Cloud Logging keep the original function names.
    minifyWhitespace: options.minify ?? true,
    minifySyntax: options.minify ?? true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  }).catch((error: unknown) => {
    throw new BundleError(`esbuild failed for functions/${folder}: ${(error as Error).message}`, {
      cause: error,
    });
  });

  for (const [target, source] of await runtimeFiles(repoRoot, result.metafile)) {
    await mkdir(dirname(join(dir, target)), { recursive: true });
    await copyFile(source, join(dir, target));
  }
  const dependencies: Record<string, string> =
    framework === 'dependency' ? { [FRAMEWORK_PACKAGE]: await frameworkVersion(repoRoot) } : {};
  const manifest = {
    name: `fleet-features-${folder}`,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '22' },
    dependencies,
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const paths = await listFiles(dir);
  const contents = await Promise.all(
    paths.map(async (path) => ({ path, data: await readFile(join(dir, path)) })),
  );
  const files = contents.map(({ path, data }) => ({ path, bytes: data.length }));
  return {
    folder,
    dir,
    files,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    zipBytes: zipSize(contents),
    dependencies,
  };
}

/** Bundles every function found under functions/ into <outRoot>/<folder>/. */
export async function bundleFunctions(options: {
  repoRoot: string;
  outRoot: string;
  framework?: FrameworkPlacement;
  minify?: boolean;
}): Promise<FunctionBundle[]> {
  const bundles: FunctionBundle[] = [];
  for (const folder of await discoverFunctionFolders(options.repoRoot)) {
    bundles.push(await bundleFunction({ ...options, folder }));
  }
  return bundles;
}
