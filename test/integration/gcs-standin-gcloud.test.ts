// The local GCS stand-in driven by the real gcloud CLI, as a user points it at the local stack:
// `api_endpoint_overrides/storage` at the stand-in, credentials disabled, a throwaway config dir.
// Every `gcloud storage` operation of issue 12 (item 2) is run here and its outcome checked against
// what an independent reader sees (plain HTTP to the stand-in, the local files, gcloud's own
// `storage hash`). gcloud's `--log-http` record shows which API paths it took (multipart or
// resumable uploads, Range requests, pageToken). gcloud starts in about a second (Python), so
// operations are grouped; the tests run in order and build on each other's objects.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GcsStandin, startGcsStandin } from '../../local/gcs-standin/index.js';
import { findExecutable } from '../../local/servers/find-executable.js';

const PROJECT = 'gcloud-test-project';
const BUCKET = 'gcloud-test-bucket';
const SPARE_BUCKET = 'gcloud-test-spare';
const COPY_BUCKET = 'gcloud-test-copies';
const BIG_BYTES = 20 * 1024 * 1024;
const MANY_FILES = 50;
const BULK_OBJECTS = 1_050;
const GCLOUD_TIMEOUT_MS = 60_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let gcloudPath: string;
let standin: GcsStandin;
let dir: string;
let env: NodeJS.ProcessEnv;
let smallFile: string;
let bigFile: string;
let manyDir: string;
let compositeFile: string;
let downloads: string;
/** What `gcloud storage hash` computes for a local file: Google's own md5 and crc32c encoding. */
let localHashes: Map<string, { md5_hash: string; crc32c_hash: string }>;

/** `gcloud storage ARGS` with the stand-in's environment; never throws on a non-zero exit. */
function gcloud(
  args: string[],
  options: { input?: Buffer; properties?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(gcloudPath, ['storage', ...args], {
      cwd: dir,
      env: { ...env, ...options.properties },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    child.stdin.end(options.input);
  });
}

/** Like gcloud(), but a failure fails the test with gcloud's own message. */
async function gcloudOk(
  args: string[],
  options: { input?: Buffer; properties?: Record<string, string> } = {},
): Promise<CliResult> {
  const result = await gcloud(args, options);
  if (result.code !== 0) {
    throw new Error(`gcloud storage ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  }
  return result;
}

/** The requests in a `--log-http` record, as `METHOD URL`, and the statuses of the responses. */
function httpLog(stderr: string): { requests: string[]; statuses: number[] } {
  const uris = [...stderr.matchAll(/^uri: (\S+)\nmethod: (\S+)$/gm)].map(
    ([, uri, method]) => `${method} ${uri}`,
  );
  const statuses = [...stderr.matchAll(/^status: (\d+)$/gm)].map(([, status]) => Number(status));
  return { requests: uris, statuses };
}

interface ObjectResource {
  name: string;
  size: string;
  md5Hash?: string;
  crc32c: string;
  generation: string;
  contentType: string;
  componentCount?: number;
  metadata?: Record<string, string>;
}

/** The object resource as the stand-in's JSON API answers it, read without gcloud. */
async function objectMetadata(name: string, bucket = BUCKET): Promise<ObjectResource | undefined> {
  const response = await fetch(`${standin.url}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`);
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return (await response.json()) as ObjectResource;
}

async function objectNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ prefix, ...(pageToken ? { pageToken } : {}) });
    const response = await fetch(`${standin.url}/storage/v1/b/${BUCKET}/o?${query}`);
    const page = (await response.json()) as { items?: { name: string }[]; nextPageToken?: string };
    names.push(...(page.items ?? []).map((item) => item.name));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return names;
}

function localHash(path: string): { md5_hash: string; crc32c_hash: string } {
  const hash = localHashes.get(path);
  if (!hash) throw new Error(`gcloud storage hash gave nothing for ${path}: ${[...localHashes.keys()]}`);
  return hash;
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('base64');

beforeAll(async () => {
  const found = findExecutable('gcloud');
  if (found === undefined) {
    throw new Error(
      'gcloud is not on PATH: these tests drive the GCS stand-in with the real gcloud CLI. Install the ' +
        'Google Cloud CLI (Debian: apt-get install google-cloud-cli; the Pub/Sub emulator package ' +
        'google-cloud-cli-pubsub-emulator brings it too).',
    );
  }
  gcloudPath = found;
  dir = await mkdtemp(join(tmpdir(), 'gcs-standin-gcloud-'));
  standin = await startGcsStandin({ root: join(dir, 'gcs') });
  // Only our own CLOUDSDK_* settings: nothing from the user's gcloud configuration leaks in.
  env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CLOUDSDK_')));
  Object.assign(env, {
    CLOUDSDK_CONFIG: join(dir, 'gcloud-config'),
    CLOUDSDK_CORE_PROJECT: PROJECT,
    // The trailing slash is required; gcloud also accepts `${standin.url}/` and adds storage/v1/ itself.
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${standin.url}/storage/v1/`,
    CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'true',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
    CLOUDSDK_CORE_DISABLE_PROMPTS: 'true',
    CLOUDSDK_CORE_CHECK_GCE_METADATA: 'false',
    // A stand-in error fails at once with its message, not after gcloud's backoff (5xx are retried).
    CLOUDSDK_STORAGE_MAX_RETRIES: '0',
  });

  smallFile = join(dir, 'small.txt');
  await writeFile(smallFile, 'hello from gcloud\n');
  bigFile = join(dir, 'big.bin');
  await writeFile(bigFile, randomBytes(BIG_BYTES));
  manyDir = join(dir, 'many');
  await mkdir(manyDir);
  for (let i = 1; i <= MANY_FILES; i++) await writeFile(join(manyDir, `f${i}.txt`), `file ${i}\n`);
  compositeFile = join(dir, 'composite.bin');
  await writeFile(compositeFile, randomBytes(3_000_000));
  downloads = join(dir, 'downloads');
  await mkdir(downloads);
  const hashed = await gcloudOk(['hash', bigFile, compositeFile, '--format=json']);
  localHashes = new Map(
    (JSON.parse(hashed.stdout) as { url: string; md5_hash: string; crc32c_hash: string }[]).map((h) => [
      h.url,
      h,
    ]),
  );
});

afterAll(async () => {
  await standin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('gcloud storage against the GCS stand-in', () => {
  it(
    'buckets create, describe, list and delete',
    async () => {
      const created = await gcloudOk([
        'buckets',
        'create',
        `gs://${BUCKET}`,
        `gs://${SPARE_BUCKET}`,
        '--log-http',
      ]);
      // gcloud sends enableObjectRetention=False on every create: accepted, as it changes nothing.
      expect(httpLog(created.stderr).requests).toContainEqual(
        expect.stringMatching(/^POST .*\/storage\/v1\/b\?.*enableObjectRetention=False/),
      );

      const [described, listed] = await Promise.all([
        gcloudOk(['buckets', 'describe', `gs://${BUCKET}`, '--format=json']),
        gcloudOk(['buckets', 'list', '--format=json']),
      ]);
      expect(JSON.parse(described.stdout)).toMatchObject({
        name: BUCKET,
        location: 'US',
        default_storage_class: 'STANDARD',
        storage_url: `gs://${BUCKET}/`,
      });
      expect((JSON.parse(listed.stdout) as { name: string }[]).map((b) => b.name)).toEqual([
        BUCKET,
        SPARE_BUCKET,
      ]);

      await gcloudOk(['buckets', 'delete', `gs://${SPARE_BUCKET}`]);
      expect((await fetch(`${standin.url}/storage/v1/b/${SPARE_BUCKET}`)).status).toBe(404);
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp uploads a small file in one multipart request and a 20 MB file by a resumable upload',
    async () => {
      const result = await gcloudOk(['cp', smallFile, bigFile, `gs://${BUCKET}/up/`, '--log-http']);
      const { requests } = httpLog(result.stderr);
      expect(requests).toContainEqual(
        expect.stringMatching(/^POST .*\/upload\/storage\/v1\/b\/[^/]+\/o\?.*uploadType=multipart/),
      );
      expect(requests).toContainEqual(
        expect.stringMatching(
          /^POST .*\/resumable\/upload\/storage\/v1\/b\/[^/]+\/o\?.*uploadType=resumable/,
        ),
      );
      expect(requests).toContainEqual(expect.stringMatching(/^PUT .*upload_id=/));

      for (const [path, name, contentType] of [
        [smallFile, 'up/small.txt', 'text/plain'],
        [bigFile, 'up/big.bin', 'application/octet-stream'],
      ] as const) {
        const data = await readFile(path);
        expect(await objectMetadata(name)).toMatchObject({
          size: String(data.length),
          md5Hash: md5(data),
          contentType,
        });
      }
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp -r uploads a directory of 50 files',
    async () => {
      await gcloudOk(['cp', '-r', manyDir, `gs://${BUCKET}/`]);
      const names = await objectNames('many/');
      expect(names).toHaveLength(MANY_FILES);
      expect(await objectMetadata('many/f7.txt')).toMatchObject({ size: String('file 7\n'.length) });
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp - streams stdin as a resumable upload in 256 KiB chunks (308 Resume Incomplete between them)',
    async () => {
      const data = randomBytes(1_000_000);
      const result = await gcloudOk(['cp', '-', `gs://${BUCKET}/streamed.bin`, '--log-http'], {
        input: data,
        properties: { CLOUDSDK_STORAGE_UPLOAD_CHUNK_SIZE: '256KiB' },
      });
      const { requests, statuses } = httpLog(result.stderr);
      expect(requests.filter((r) => r.startsWith('PUT '))).toHaveLength(4);
      expect(statuses.filter((s) => s === 308)).toHaveLength(3);
      expect(await objectMetadata('streamed.bin')).toMatchObject({ size: '1000000', md5Hash: md5(data) });
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp -J (gzip in flight) stores the bytes the gzip wraps',
    async () => {
      await gcloudOk(['cp', '-J', smallFile, `gs://${BUCKET}/gzip-in-flight.txt`]);
      const data = await readFile(smallFile);
      expect(await objectMetadata('gzip-in-flight.txt')).toMatchObject({
        size: String(data.length),
        md5Hash: md5(data),
      });
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'a parallel composite upload composes resumably uploaded components and deletes them',
    async () => {
      const result = await gcloudOk(['cp', compositeFile, `gs://${BUCKET}/composite.bin`, '--log-http'], {
        properties: {
          CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED: 'True',
          CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_THRESHOLD: '1M',
          CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_COMPONENT_SIZE: '1M',
          // gcloud deletes only components it uploaded resumably (it finds them by tracker file).
          CLOUDSDK_STORAGE_RESUMABLE_THRESHOLD: '512K',
        },
      });
      expect(httpLog(result.stderr).requests).toContainEqual(
        expect.stringMatching(/^POST .*\/o\/composite\.bin\/compose/),
      );
      const composite = await objectMetadata('composite.bin');
      // Like Google's, a composite object has a CRC-32C and a component count, and no MD5.
      expect(composite).toMatchObject({
        size: '3000000',
        crc32c: localHash(compositeFile).crc32c_hash,
        componentCount: 3,
      });
      expect(composite?.md5Hash).toBeUndefined();
      expect(await objectNames('gcloud/tmp/')).toEqual([]);

      await gcloudOk(['cp', `gs://${BUCKET}/composite.bin`, join(downloads, 'composite.bin')]);
      expect((await readFile(join(downloads, 'composite.bin'))).equals(await readFile(compositeFile))).toBe(
        true,
      );
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp downloads a small and a 20 MB object, and slices a download into Range requests',
    async () => {
      await gcloudOk(['cp', `gs://${BUCKET}/up/small.txt`, `gs://${BUCKET}/up/big.bin`, downloads]);
      expect(await readFile(join(downloads, 'small.txt'))).toEqual(await readFile(smallFile));
      expect((await readFile(join(downloads, 'big.bin'))).equals(await readFile(bigFile))).toBe(true);

      const sliced = await gcloudOk(
        ['cp', `gs://${BUCKET}/up/big.bin`, join(downloads, 'sliced.bin'), '--log-http'],
        {
          properties: {
            CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_THRESHOLD: '1M',
            CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_COMPONENT_SIZE: '4M',
          },
        },
      );
      const ranges = [...sliced.stderr.matchAll(/^b'range': b'bytes=(\d+)-(\d+)'$/gim)].map(([, a, b]) => [
        Number(a),
        Number(b),
      ]);
      expect(ranges.length).toBeGreaterThan(1);
      expect(ranges.reduce((sum, [a, b]) => sum + (b! - a! + 1), 0)).toBe(BIG_BYTES);
      expect(httpLog(sliced.stderr).statuses.filter((s) => s === 206)).toHaveLength(ranges.length);
      expect((await readFile(join(downloads, 'sliced.bin'))).equals(await readFile(bigFile))).toBe(true);
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp -r downloads a directory of 50 objects',
    async () => {
      await gcloudOk(['cp', '-r', `gs://${BUCKET}/many`, downloads]);
      const files = (await readdir(join(downloads, 'many'))).sort();
      expect(files).toEqual((await readdir(manyDir)).sort());
      expect(await readFile(join(downloads, 'many', 'f42.txt'), 'utf8')).toBe('file 42\n');
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'ls lists by prefix, recursively, and past 1,000 objects with pageToken',
    async () => {
      const [prefixed, top, recursive] = await Promise.all([
        gcloudOk(['ls', `gs://${BUCKET}/many/f1*`]),
        gcloudOk(['ls', `gs://${BUCKET}`]),
        gcloudOk(['ls', '-r', `gs://${BUCKET}/up`]),
      ]);
      expect(prefixed.stdout.trim().split('\n')).toEqual(
        ['f1', 'f10', 'f11', 'f12', 'f13', 'f14', 'f15', 'f16', 'f17', 'f18', 'f19'].map(
          (f) => `gs://${BUCKET}/many/${f}.txt`,
        ),
      );

      expect(top.stdout.trim().split('\n')).toEqual([
        `gs://${BUCKET}/composite.bin`,
        `gs://${BUCKET}/gzip-in-flight.txt`,
        `gs://${BUCKET}/streamed.bin`,
        `gs://${BUCKET}/many/`,
        `gs://${BUCKET}/up/`,
      ]);

      expect(recursive.stdout.trim().split('\n')).toEqual([
        `gs://${BUCKET}/up/:`,
        `gs://${BUCKET}/up/big.bin`,
        `gs://${BUCKET}/up/small.txt`,
      ]);

      // 1,050 objects written over plain HTTP (1,050 gcloud calls would take half an hour).
      const bulk = Array.from(
        { length: BULK_OBJECTS },
        (_, i) => `bulk/obj-${String(i).padStart(4, '0')}.txt`,
      );
      for (let i = 0; i < bulk.length; i += 50) {
        await Promise.all(
          bulk.slice(i, i + 50).map(async (name) => {
            const response = await fetch(
              `${standin.url}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${encodeURIComponent(name)}`,
              { method: 'POST', body: name },
            );
            expect(response.status).toBe(200);
          }),
        );
      }
      const listed = await gcloudOk(['ls', `gs://${BUCKET}/bulk/`, '--log-http']);
      expect(listed.stdout.trim().split('\n')).toEqual(bulk.map((name) => `gs://${BUCKET}/${name}`));
      const pages = httpLog(listed.stderr).requests.filter((r) => /\/o\?.*prefix=bulk%2F/.test(r));
      expect(pages).toHaveLength(2);
      expect(pages[1]).toMatch(/pageToken=/);
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cat prints an object',
    async () => {
      const result = await gcloudOk(['cat', `gs://${BUCKET}/up/small.txt`]);
      expect(result.stdout).toBe('hello from gcloud\n');
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'objects describe reports size, md5 and crc32c as Google encodes them (base64, crc32c big-endian)',
    async () => {
      const described = await gcloudOk(['objects', 'describe', `gs://${BUCKET}/up/big.bin`, '--format=json']);
      const object = JSON.parse(described.stdout) as Record<string, unknown>;
      expect(object).toMatchObject({
        name: 'up/big.bin',
        size: BIG_BYTES,
        md5_hash: localHash(bigFile).md5_hash,
        crc32c_hash: localHash(bigFile).crc32c_hash,
      });
      expect(object.md5_hash).toBe(md5(await readFile(bigFile)));
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'cp between buckets and mv copy on the server (rewriteTo); objects update patches metadata',
    async () => {
      await gcloudOk(['buckets', 'create', `gs://${COPY_BUCKET}`]);
      const [copied] = await Promise.all([
        gcloudOk(['cp', `gs://${BUCKET}/up/big.bin`, `gs://${COPY_BUCKET}/big.bin`, '--log-http']),
        gcloudOk(['mv', `gs://${BUCKET}/streamed.bin`, `gs://${BUCKET}/moved/streamed.bin`]),
        gcloudOk([
          'objects',
          'update',
          `gs://${BUCKET}/gzip-in-flight.txt`,
          '--content-type=text/csv',
          '--custom-metadata=origin=gcloud',
        ]),
      ]);
      expect(httpLog(copied.stderr).requests).toContainEqual(
        expect.stringMatching(/^POST .*\/o\/up%2Fbig\.bin\/rewriteTo\/b\/gcloud-test-copies\/o\/big\.bin/),
      );
      const source = (await objectMetadata('up/big.bin'))!;
      expect(await objectMetadata('big.bin', COPY_BUCKET)).toMatchObject({
        size: source.size,
        md5Hash: source.md5Hash,
        crc32c: source.crc32c,
      });
      expect(await objectMetadata('streamed.bin')).toBeUndefined();
      expect(await objectMetadata('moved/streamed.bin')).toMatchObject({ size: '1000000' });
      expect(await objectMetadata('gzip-in-flight.txt')).toMatchObject({
        contentType: 'text/csv',
        metadata: { origin: 'gcloud' },
      });
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    '--if-generation-match writes at the live generation and fails with 412 at a stale one',
    async () => {
      const { generation } = (await objectMetadata('up/small.txt'))!;
      await gcloudOk(['cp', `--if-generation-match=${generation}`, smallFile, `gs://${BUCKET}/up/small.txt`]);
      const rewritten = (await objectMetadata('up/small.txt'))!;
      expect(rewritten.generation).not.toBe(generation);

      // Stale: a multipart upload, a resumable upload (refused when the session starts) and a delete.
      const stale = await Promise.all([
        gcloud(['cp', `--if-generation-match=${generation}`, smallFile, `gs://${BUCKET}/up/small.txt`]),
        gcloud(['cp', `--if-generation-match=${generation}`, bigFile, `gs://${BUCKET}/up/big.bin`]),
        gcloud(['rm', `--if-generation-match=${generation}`, `gs://${BUCKET}/up/small.txt`]),
      ]);
      for (const failed of stale) {
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain(
          'HTTPError 412: At least one of the pre-conditions you specified did not hold.',
        );
      }
      expect((await objectMetadata('up/small.txt'))?.generation).toBe(rewritten.generation);
    },
    GCLOUD_TIMEOUT_MS,
  );

  it(
    'rm removes one object, a prefix recursively, and with -r whole buckets',
    async () => {
      // rm -r lists with includeFoldersAsPrefixes=True and asks for the bucket's storageLayout.
      const [, removed] = await Promise.all([
        gcloudOk(['rm', `gs://${BUCKET}/up/small.txt`]),
        gcloudOk(['rm', '-r', `gs://${BUCKET}/many`, '--log-http']),
      ]);
      expect(httpLog(removed.stderr).requests).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^GET .*\/o\?.*includeFoldersAsPrefixes=True/),
          expect.stringMatching(/^GET .*\/b\/[^/]+\/storageLayout/),
        ]),
      );
      expect(await objectMetadata('up/small.txt')).toBeUndefined();
      expect(await objectNames('many/')).toEqual([]);
      expect(await objectNames('up/')).toEqual(['up/big.bin']);

      await gcloudOk(['rm', '-r', `gs://${BUCKET}`, `gs://${COPY_BUCKET}`]);
      const buckets = await fetch(`${standin.url}/storage/v1/b?project=${PROJECT}`);
      expect(await buckets.json()).toEqual({ kind: 'storage#buckets' });
    },
    GCLOUD_TIMEOUT_MS,
  );
});
