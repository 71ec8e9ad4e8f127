// The local GCS stand-in, driven by the official @google-cloud/storage client (what production code
// uses) and, for the wire details the client hides, by raw HTTP.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ApiError,
  type Bucket,
  type GetFilesOptions,
  type GetFilesResponse,
  Storage,
} from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GcsStandin, startGcsStandin } from '../../local/gcs-standin/index.js';

// The client must not look for GCE credentials or a project; the custom endpoint skips auth.
process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'test-project';

let standin: GcsStandin;
let root: string;
let storage: Storage;
let bucket: Bucket;

/** The client options the production adapter uses against the stand-in. */
function standinClient(url: string): Storage {
  return new Storage({ apiEndpoint: url, projectId: PROJECT });
}

async function apiErrorOf(
  promise: Promise<unknown>,
): Promise<{ code: unknown; message: string; errors?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: unknown; message: string; errors?: unknown };
  }
  throw new Error('expected the call to fail');
}

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  // The STORAGE_EMULATOR_HOST test sets it on purpose; anything inherited would override apiEndpoint.
  delete process.env.STORAGE_EMULATOR_HOST;
  root = await mkdtemp(join(tmpdir(), 'gcs-standin-test-'));
  standin = await startGcsStandin({ root });
  storage = standinClient(standin.url);
  [bucket] = await storage.createBucket('fleet-features-test');
});

afterAll(async () => {
  await standin?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('GCS stand-in through @google-cloud/storage', () => {
  it('creates buckets, answers 409 for an existing one and 404 for a missing one', async () => {
    expect(standin.url).toBe(`http://${standin.host}`);
    const [metadata] = await bucket.getMetadata();
    expect(metadata).toMatchObject({
      kind: 'storage#bucket',
      name: 'fleet-features-test',
      id: 'fleet-features-test',
    });

    const duplicate = await apiErrorOf(storage.createBucket('fleet-features-test'));
    expect(duplicate).toBeInstanceOf(ApiError);
    expect(duplicate.code).toBe(409);

    const [exists] = await storage.bucket('no-such-bucket').exists();
    expect(exists).toBe(false);
    const missing = await apiErrorOf(storage.bucket('no-such-bucket').getMetadata());
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing.code).toBe(404);
  });

  it('uploads with a multipart request and downloads the same bytes', async () => {
    const bytes = randomBytes(70_000);
    const file = bucket.file('multipart/sample.bin');
    await file.save(bytes, { resumable: false });
    const [downloaded] = await file.download();
    expect(downloaded.equals(bytes)).toBe(true);
  });

  it('uploads a few MB resumably, in one request and in 256 KiB chunks', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 123);
    await bucket.file('resumable/one-request.bin').save(big, { resumable: true });
    // chunkSize makes the client send several PUTs and follow the 308 Range answers.
    await bucket.file('resumable/chunked.bin').save(big, { resumable: true, chunkSize: 256 * 1024 });
    for (const name of ['resumable/one-request.bin', 'resumable/chunked.bin']) {
      const [downloaded] = await bucket.file(name).download();
      expect(downloaded.equals(big)).toBe(true);
      const [metadata] = await bucket.file(name).getMetadata();
      expect(metadata.size).toBe(String(big.length));
    }
  });

  it('uploads through createWriteStream({ resumable: true })', async () => {
    const parts = [randomBytes(500_000), randomBytes(700_001), randomBytes(3)];
    const file = bucket.file('stream/written.bin');
    await pipeline(
      (async function* () {
        yield* parts;
      })(),
      file.createWriteStream({ resumable: true, contentType: 'application/x-ndjson' }),
    );
    const [downloaded] = await file.download();
    expect(downloaded.equals(Buffer.concat(parts))).toBe(true);
    const [metadata] = await file.getMetadata();
    expect(metadata.contentType).toBe('application/x-ndjson');
  });

  it('returns the object resource with generation, size, checksums and custom metadata', async () => {
    const bytes = Buffer.from('{"vehicle_id":"v-1"}\n');
    const file = bucket.file('features/dt=2024-05-01/hour=07/part-0001.ndjson');
    await file.save(bytes, {
      resumable: false,
      metadata: { contentType: 'application/x-ndjson', metadata: { rows: '1', source: 'feature-function' } },
    });
    const [metadata] = await file.getMetadata();
    expect(metadata).toMatchObject({
      kind: 'storage#object',
      name: 'features/dt=2024-05-01/hour=07/part-0001.ndjson',
      bucket: 'fleet-features-test',
      metageneration: '1',
      contentType: 'application/x-ndjson',
      size: String(bytes.length),
      md5Hash: 'WLChrjhVeJ80hZx32BXrcA==',
      // CRC-32C of the same bytes, as GCS reports it (big-endian, base64).
      crc32c: 'T19p/A==',
      metadata: { rows: '1', source: 'feature-function' },
    });
    expect(metadata.generation).toMatch(/^\d+$/);
    expect(metadata.id).toBe(`fleet-features-test/${metadata.name}/${metadata.generation}`);
    expect(Date.parse(String(metadata.timeCreated))).not.toBeNaN();
    expect(Date.parse(String(metadata.updated))).not.toBeNaN();
  });

  it('lists by prefix, rolls names up by delimiter into prefixes, and pages with maxResults', async () => {
    const names = [
      'list/a.txt',
      'list/b.txt',
      'list/sub/c.txt',
      'list/sub/d.txt',
      'list/zz/e.txt',
      'listing.txt',
    ];
    await Promise.all(names.map((name) => bucket.file(name).save(name, { resumable: false })));

    const [underPrefix] = await bucket.getFiles({ prefix: 'list/' });
    expect(underPrefix.map((f) => f.name)).toEqual(names.slice(0, 5));

    const [files, , response] = await bucket.getFiles({
      prefix: 'list/',
      delimiter: '/',
      autoPaginate: false,
    });
    expect(files.map((f) => f.name)).toEqual(['list/a.txt', 'list/b.txt']);
    expect((response as { prefixes?: string[] }).prefixes).toEqual(['list/sub/', 'list/zz/']);

    const pages: string[][] = [];
    let query: GetFilesOptions | undefined = { prefix: 'list/', maxResults: 2, autoPaginate: false };
    while (query) {
      const [page, next]: GetFilesResponse = await bucket.getFiles(query);
      pages.push(page.map((f) => f.name));
      // After the last page the client hands back null (typed as an object).
      query = (next as GetFilesOptions | null) ?? undefined;
    }
    expect(pages).toEqual([
      ['list/a.txt', 'list/b.txt'],
      ['list/sub/c.txt', 'list/sub/d.txt'],
      ['list/zz/e.txt'],
    ]);
  });

  it('deletes an object, after which metadata and download raise ApiError 404', async () => {
    const file = bucket.file('to-delete.txt');
    await file.save('short-lived', { resumable: false });
    await file.delete();
    expect((await file.exists())[0]).toBe(false);
    const metadataError = await apiErrorOf(file.getMetadata());
    expect(metadataError).toBeInstanceOf(ApiError);
    expect(metadataError.code).toBe(404);
    const downloadError = await apiErrorOf(file.download());
    expect(downloadError.code).toBe(404);
    const deleteAgain = await apiErrorOf(file.delete());
    expect(deleteAgain.code).toBe(404);
  });

  it('refuses ifGenerationMatch: 0 on an existing object with 412 and keeps the first write', async () => {
    const file = bucket.file('idempotent/row-42.json');
    await file.save('first', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const [before] = await file.getMetadata();

    const multipart = await apiErrorOf(
      file.save('second', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    expect(multipart).toBeInstanceOf(ApiError);
    expect(multipart.code).toBe(412);
    expect(multipart.errors).toEqual([expect.objectContaining({ reason: 'conditionNotMet' })]);

    const resumable = await apiErrorOf(
      file.save('second', { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    expect(resumable.code).toBe(412);

    const [after] = await file.getMetadata();
    expect(after.generation).toBe(before.generation);
    expect((await file.download())[0].toString()).toBe('first');
  });

  it('overwrites when ifGenerationMatch names the live generation, giving a newer generation', async () => {
    const file = bucket.file('versioned.txt');
    await file.save('v1', { resumable: false });
    const [v1] = await file.getMetadata();
    await file.save('v2', {
      resumable: false,
      preconditionOpts: { ifGenerationMatch: Number(v1.generation) },
    });
    const [v2] = await file.getMetadata();
    expect(BigInt(String(v2.generation))).toBeGreaterThan(BigInt(String(v1.generation)));
    const stale = await apiErrorOf(
      file.save('v3', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(v1.generation) } }),
    );
    expect(stale.code).toBe(412);
    expect((await file.download())[0].toString()).toBe('v2');
  });

  it('patches metadata, bumping metageneration, honouring ifMetagenerationMatch', async () => {
    const file = bucket.file('patched.txt');
    await file.save('x', { resumable: false, metadata: { metadata: { keep: 'yes', drop: 'soon' } } });
    const [patched] = await file.setMetadata({
      metadata: { drop: null, added: 'new' },
      cacheControl: 'no-cache',
    });
    expect(patched).toMatchObject({
      metageneration: '2',
      cacheControl: 'no-cache',
      metadata: { keep: 'yes', added: 'new' },
    });
    const stale = await apiErrorOf(file.setMetadata({ contentLanguage: 'en' }, { ifMetagenerationMatch: 1 }));
    expect(stale.code).toBe(412);
  });

  it('stores gzip content as uploaded; decompress: false returns those bytes, the default gunzips', async () => {
    const text = '{"event_id":"e-1"}\n'.repeat(1000);
    const gzipped = gzipSync(text);
    const file = bucket.file('features/part.ndjson.gz');
    await file.save(gzipped, {
      resumable: false,
      metadata: { contentType: 'application/x-ndjson', contentEncoding: 'gzip' },
    });
    const [metadata] = await file.getMetadata();
    expect(metadata.contentEncoding).toBe('gzip');
    expect(metadata.size).toBe(String(gzipped.length));

    const [raw] = await file.download({ decompress: false });
    expect(raw.equals(gzipped)).toBe(true);
    expect(gunzipSync(raw).toString()).toBe(text);
    const [decoded] = await file.download();
    expect(decoded.toString()).toBe(text);
  });

  it('composes objects (bucket.combine) into one with a component count, a CRC-32C and no MD5', async () => {
    const parts = [randomBytes(300_000), randomBytes(5), randomBytes(70_000)];
    const files = parts.map((_, i) => bucket.file(`compose/part-${i}`));
    await Promise.all(files.map((file, i) => file.save(parts[i]!, { resumable: false })));
    const [combined] = await bucket.combine(files, 'compose/whole.bin');
    const [metadata] = await combined.getMetadata();
    const whole = Buffer.concat(parts);
    expect(metadata).toMatchObject({ size: String(whole.length), componentCount: 3 });
    expect(metadata.md5Hash).toBeUndefined();
    const [downloaded] = await combined.download();
    expect(downloaded.equals(whole)).toBe(true);

    const [twice] = await bucket.combine([combined, files[1]!], 'compose/twice.bin');
    const [twiceMetadata] = await twice.getMetadata();
    expect(twiceMetadata.componentCount).toBe(4);
  });

  it('copies objects within and across buckets (rewriteTo), keeping bytes, checksums and metadata', async () => {
    const source = bucket.file('copy/source.txt');
    await source.save('copy me\n', {
      resumable: false,
      metadata: { contentType: 'text/plain', metadata: { k: 'v' } },
    });
    const [other] = await storage.createBucket('fleet-features-copies');
    const [copied] = await source.copy(other.file('copied.txt'));
    const [[sourceMetadata], [copiedMetadata]] = await Promise.all([
      source.getMetadata(),
      copied.getMetadata(),
    ]);
    expect(copiedMetadata).toMatchObject({
      bucket: 'fleet-features-copies',
      name: 'copied.txt',
      size: sourceMetadata.size,
      md5Hash: sourceMetadata.md5Hash,
      crc32c: sourceMetadata.crc32c,
      contentType: 'text/plain',
      metadata: { k: 'v' },
    });
    expect((await copied.download())[0].toString()).toBe('copy me\n');

    await source.move('copy/moved.txt');
    expect((await source.exists())[0]).toBe(false);
    expect((await bucket.file('copy/moved.txt').download())[0].toString()).toBe('copy me\n');

    const stale = await apiErrorOf(
      bucket
        .file('copy/moved.txt')
        .copy(other.file('copied.txt'), { preconditionOpts: { ifGenerationMatch: 1 } }),
    );
    expect(stale.code).toBe(412);
  });

  it('takes many concurrent uploads to distinct and to the same names', async () => {
    const distinct = Array.from({ length: 40 }, (_, i) => ({
      name: `concurrent/${i}.bin`,
      bytes: randomBytes(20_000 + i),
    }));
    await Promise.all(
      distinct.map(({ name, bytes }, i) => bucket.file(name).save(bytes, { resumable: i % 2 === 0 })),
    );
    const [listed] = await bucket.getFiles({ prefix: 'concurrent/' });
    expect(listed).toHaveLength(40);
    for (const { name, bytes } of distinct.slice(0, 5)) {
      expect((await bucket.file(name).download())[0].equals(bytes)).toBe(true);
    }

    // Racing creates of one name: exactly one wins, the rest get 412.
    const racers = Array.from({ length: 12 }, (_, i) =>
      bucket
        .file('concurrent-race.txt')
        .save(`writer-${i}`, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })
        .then(
          () => 'won',
          (error: { code?: unknown }) => error.code,
        ),
    );
    const outcomes = await Promise.all(racers);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 412)).toHaveLength(11);
  });

  it('keeps every byte under the root whatever the object name, and names survive the round trip', async () => {
    const names = [
      '../escape.txt',
      '../../etc/passwd',
      '..\\windows.txt',
      '/leading-slash',
      'a/../../b',
      'sp ace+plus%25=é',
    ];
    for (const name of names) await bucket.file(name).save(`content of ${name}`, { resumable: false });
    for (const name of names) {
      expect((await bucket.file(name).download())[0].toString()).toBe(`content of ${name}`);
    }
    const [listed] = await bucket.getFiles();
    expect(listed.map((f) => f.name)).toEqual(expect.arrayContaining(names));
    for (const path of await allFiles(root)) {
      const inside = relative(root, path);
      expect(inside.startsWith('..')).toBe(false);
      // Objects live flat in <bucket>/objects: no name creates folders.
      if (inside.startsWith(`fleet-features-test${sep}objects${sep}`)) {
        expect(inside.split(sep)).toHaveLength(3);
      }
    }
  });

  it('keeps objects across a restart on the same root', async () => {
    const ownRoot = await mkdtemp(join(tmpdir(), 'gcs-standin-restart-'));
    try {
      const first = await startGcsStandin({ root: ownRoot });
      const bytes = randomBytes(1000);
      const client = standinClient(first.url);
      const [own] = await client.createBucket('restart-bucket');
      await own.file('kept.bin').save(bytes, { resumable: false });
      await own.file('replaced.bin').save('old', { resumable: false });
      await own.file('replaced.bin').save('new', { resumable: false });
      await first.close();

      const second = await startGcsStandin({ root: ownRoot });
      try {
        const again = standinClient(second.url).bucket('restart-bucket');
        expect((await again.file('kept.bin').download())[0].equals(bytes)).toBe(true);
        expect((await again.file('replaced.bin').download())[0].toString()).toBe('new');
        const [files] = await again.getFiles();
        expect(files.map((f) => f.name)).toEqual(['kept.bin', 'replaced.bin']);
      } finally {
        await second.close();
      }
    } finally {
      await rm(ownRoot, { recursive: true, force: true });
    }
  });

  it('also serves a client configured with STORAGE_EMULATOR_HOST set to the stand-in url', async () => {
    process.env.STORAGE_EMULATOR_HOST = standin.url;
    let viaEnv: Storage;
    try {
      viaEnv = new Storage({ projectId: PROJECT });
    } finally {
      delete process.env.STORAGE_EMULATOR_HOST;
    }
    const file = viaEnv.bucket('fleet-features-test').file('via-env/hello.txt');
    await file.save('hello', { resumable: true });
    expect((await file.download())[0].toString()).toBe('hello');
    const [files] = await viaEnv.bucket('fleet-features-test').getFiles({ prefix: 'via-env/' });
    expect(files.map((f) => f.name)).toEqual(['via-env/hello.txt']);
  });
});

describe('GCS stand-in wire protocol', () => {
  const objectUrl = (name: string) =>
    `${standin.url}/storage/v1/b/fleet-features-test/o/${encodeURIComponent(name)}`;

  async function startSession(name: string, query = ''): Promise<string> {
    const response = await fetch(
      `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=resumable&name=${encodeURIComponent(name)}${query}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' },
    );
    expect(response.status).toBe(200);
    const location = response.headers.get('location');
    expect(location).toMatch(/upload_id=/);
    return location!;
  }

  it('answers errors in the JSON API error shape', async () => {
    const missingBucket = await fetch(`${standin.url}/storage/v1/b/no-such-bucket`);
    expect(missingBucket.status).toBe(404);
    expect(await missingBucket.json()).toEqual({
      error: {
        code: 404,
        message: 'The specified bucket does not exist.',
        errors: [{ message: 'The specified bucket does not exist.', domain: 'global', reason: 'notFound' }],
      },
    });
    const missingObject = await fetch(objectUrl('nope.txt'));
    expect(missingObject.status).toBe(404);
    expect(await missingObject.json()).toMatchObject({
      error: {
        code: 404,
        message: 'No such object: fleet-features-test/nope.txt',
        errors: [{ reason: 'notFound' }],
      },
    });
  });

  it('runs the resumable protocol: 308 with Range for partial chunks, then 200 with the object', async () => {
    const session = await startSession('wire/resumable.bin');
    const data = randomBytes(256 * 1024 + 6);

    const first = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': `bytes 0-${256 * 1024 - 1}/*` },
      body: data.subarray(0, 256 * 1024),
    });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe(`bytes=0-${256 * 1024 - 1}`);

    const status = await fetch(session, { method: 'PUT', headers: { 'Content-Range': 'bytes */*' } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${256 * 1024 - 1}`);

    const last = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': `bytes ${256 * 1024}-${data.length - 1}/${data.length}` },
      body: data.subarray(256 * 1024),
    });
    expect(last.status).toBe(200);
    const resource = (await last.json()) as { name: string; size: string };
    expect(resource).toMatchObject({ name: 'wire/resumable.bin', size: String(data.length) });

    // A completed session keeps answering with the object.
    const after = await fetch(session, { method: 'PUT', headers: { 'Content-Range': 'bytes */*' } });
    expect(after.status).toBe(200);
    const download = await fetch(`${objectUrl('wire/resumable.bin')}?alt=media`);
    expect(Buffer.from(await download.arrayBuffer()).equals(data)).toBe(true);
  });

  it('refuses a non-final chunk under 256 KiB and a chunk that skips ahead', async () => {
    const session = await startSession('wire/bad-chunks.bin');
    const small = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 0-9/*' },
      body: 'x'.repeat(10),
    });
    expect(small.status).toBe(400);
    const gap = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 10-19/20' },
      body: 'x'.repeat(10),
    });
    expect(gap.status).toBe(400);
    const status = await fetch(session, { method: 'PUT', headers: { 'Content-Range': 'bytes */*' } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBeNull();
  });

  it('checks ifGenerationMatch again when a resumable upload completes', async () => {
    const session = await startSession('wire/raced.txt', '&ifGenerationMatch=0');
    await bucket.file('wire/raced.txt').save('someone else', { resumable: false });
    const final = await fetch(session, { method: 'PUT', body: 'mine' });
    expect(final.status).toBe(412);
    expect(await final.json()).toMatchObject({
      error: { code: 412, errors: [{ reason: 'conditionNotMet' }] },
    });
  });

  it('refuses uploads whose X-Goog-Hash does not match the bytes', async () => {
    const media = await fetch(
      `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=media&name=wire%2Fhash.txt`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'X-Goog-Hash': 'crc32c=AAAAAA==' },
        body: 'hello',
      },
    );
    expect(media.status).toBe(400);
    expect((await fetch(objectUrl('wire/hash.txt'))).status).toBe(404);
  });

  it('serves byte ranges and answers 304 when ifGenerationNotMatch names the live generation', async () => {
    await bucket.file('wire/range.txt').save('0123456789', { resumable: false });
    const partial = await fetch(`${objectUrl('wire/range.txt')}?alt=media`, {
      headers: { Range: 'bytes=2-4' },
    });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(await partial.text()).toBe('234');

    const [metadata] = await bucket.file('wire/range.txt').getMetadata();
    const notModified = await fetch(
      `${objectUrl('wire/range.txt')}?ifGenerationNotMatch=${metadata.generation}`,
    );
    expect(notModified.status).toBe(304);
  });

  it('accepts multipart bodies as gcloud writes them: LF line breaks, a single-quoted boundary', async () => {
    const boundary = '===============0395861207301731319==';
    const body =
      `--${boundary}\nContent-Type: application/json\nMIME-Version: 1.0\n\n` +
      `{"bucket": "fleet-features-test", "contentType": "text/plain", "name": "wire/lf.txt"}\n` +
      `--${boundary}\nContent-Type: text/plain\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\n\n` +
      `hello\n\n--${boundary}--\n`;
    const response = await fetch(
      `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=multipart`,
      {
        method: 'POST',
        headers: { 'Content-Type': `multipart/related; boundary='${boundary}'` },
        body,
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      name: 'wire/lf.txt',
      size: '6',
      contentType: 'text/plain',
    });
  });

  it('stores what a Content-Encoding: gzip request body wraps (gcloud cp -J)', async () => {
    const text = 'gzip in flight\n'.repeat(100);
    const response = await fetch(
      `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=media&name=wire/gzip-in-flight.txt`,
      {
        method: 'POST',
        headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' },
        body: gzipSync(text),
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ size: String(text.length) });
    expect(await (await fetch(`${objectUrl('wire/gzip-in-flight.txt')}?alt=media`)).text()).toBe(text);

    const corrupt = await fetch(
      `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=media&name=wire/corrupt.txt`,
      { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body: 'not gzip' },
    );
    expect(corrupt.status).toBe(400);
  });

  it('ignores query parameters that change nothing locally and refuses switches that would', async () => {
    const accepted = [
      `${standin.url}/storage/v1/b/fleet-features-test/o?includeFoldersAsPrefixes=True&projection=noAcl&fields=items%2Fname&prettyPrint=false&userProject=p&versions=True`,
      `${standin.url}/storage/v1/b/fleet-features-test/o?softDeleted=false`,
      `${standin.url}/storage/v1/b/fleet-features-test/storageLayout?prefix=a%2F`,
      `${standin.url}/storage/v1/b/fleet-features-test/managedFolders?pageSize=1000`,
    ];
    for (const url of accepted) expect((await fetch(url)).status, url).toBe(200);
    const layout = await fetch(`${standin.url}/storage/v1/b/fleet-features-test/storageLayout`);
    expect(await layout.json()).toEqual({
      kind: 'storage#storageLayout',
      bucket: 'fleet-features-test',
      location: 'US',
      locationType: 'multi-region',
    });

    const created = await fetch(
      `${standin.url}/storage/v1/b?project=${PROJECT}&enableObjectRetention=False`,
      {
        method: 'POST',
        body: JSON.stringify({ name: 'retention-off' }),
      },
    );
    expect(created.status).toBe(200);
    const retention = await fetch(
      `${standin.url}/storage/v1/b?project=${PROJECT}&enableObjectRetention=true`,
      {
        method: 'POST',
        body: JSON.stringify({ name: 'retention-on' }),
      },
    );
    expect(retention.status).toBe(501);
    expect(((await retention.json()) as { error: { message: string } }).error.message).toContain(
      'enableObjectRetention=true',
    );
    const softDeleted = await fetch(`${standin.url}/storage/v1/b/fleet-features-test/o?softDeleted=true`);
    expect(softDeleted.status).toBe(501);
  });

  it('rejects invalid object names with 400', async () => {
    for (const name of ['.', '..', 'line\nbreak']) {
      const response = await fetch(
        `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=media&name=${encodeURIComponent(name)}`,
        { method: 'POST', body: 'x' },
      );
      expect(response.status).toBe(400);
    }
  });

  it('answers 501 naming what is not supported instead of a wrong answer', async () => {
    const cases: [string, RequestInit, string][] = [
      [`${objectUrl('a.txt')}/acl`, {}, "sub-resource 'acl'"],
      [`${standin.url}/storage/v1/b/fleet-features-test/o?matchGlob=**.txt`, {}, 'matchGlob'],
      [
        `${standin.url}/upload/storage/v1/b/fleet-features-test/o?uploadType=other&name=x`,
        { method: 'POST', body: 'x' },
        'uploadType=other',
      ],
      [`${standin.url}/storage/v1/b/fleet-features-test/iam`, {}, '/iam'],
    ];
    for (const [url, init, named] of cases) {
      const response = await fetch(url, init);
      expect(response.status).toBe(501);
      const body = (await response.json()) as { error: { message: string; errors: { reason: string }[] } };
      expect(body.error.message).toContain(named);
      expect(body.error.errors[0]?.reason).toBe('notImplemented');
    }
  });
});
