/**
 * A function's deployable archive: the folder `npm run bundle` writes (<bundlesDir>/<folder>/ with
 * index.js and package.json), named by a hash of its contents so a changed bundle is a new object
 * and a new deployment, and an unchanged one deploys nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { InfraConfigError } from './config.js';

/** The repository root: relative bundle paths are read from here, wherever Pulumi runs the program. */
export const REPO_ROOT = resolve(import.meta.dirname, '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

export interface FunctionArchive {
  archive: pulumi.asset.FileArchive;
  /** `<folder>/<sha256 of the bundle, 16 hex>.zip` */
  objectName: string;
}

export function functionArchive(bundlesDir: string, folder: string): FunctionArchive {
  const dir = isAbsolute(bundlesDir) ? join(bundlesDir, folder) : join(REPO_ROOT, bundlesDir, folder);
  for (const required of ['index.js', 'package.json']) {
    if (!existsSync(join(dir, required))) {
      throw new InfraConfigError(
        `${join(dir, required)} is missing: run \`npm run bundle\` before \`pulumi up\``,
      );
    }
  }
  const hash = createHash('sha256');
  for (const file of filesUnder(dir)) {
    hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return {
    archive: new pulumi.asset.FileArchive(dir),
    objectName: `${folder}/${hash.digest('hex').slice(0, 16)}.zip`,
  };
}
