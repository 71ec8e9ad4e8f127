// Pure parts of the local GCS stand-in: checksums, safe file names, listing, ranges, multipart,
// query parameters, compose requests, preconditions. The HTTP behaviour is specified in
// test/integration/gcs-standin.test.ts (and, driven by gcloud, gcs-standin-gcloud.test.ts).
import { describe, expect, it } from 'vitest';
import { GcsApiError } from '../../local/gcs-standin/api-error.js';
import { parseDownloadRange, parseUploadContentRange } from '../../local/gcs-standin/byte-ranges.js';
import { Crc32c, crc32cBase64 } from '../../local/gcs-standin/crc32c.js';
import { multipartBoundary, parseMultipartRelated } from '../../local/gcs-standin/multipart-related.js';
import { parseComposeRequest } from '../../local/gcs-standin/object-compose.js';
import { listPage } from '../../local/gcs-standin/object-listing.js';
import { applyObjectPatch, parseUploadMetadata } from '../../local/gcs-standin/object-resource.js';
import { checkPreconditions, type Preconditions } from '../../local/gcs-standin/preconditions.js';
import { checkQuery } from '../../local/gcs-standin/query-parameters.js';
import {
  objectFileStem,
  validateBucketName,
  validateObjectName,
} from '../../local/gcs-standin/resource-names.js';

function statusOf(action: () => unknown): number | 'ok' {
  try {
    action();
    return 'ok';
  } catch (error) {
    if (error instanceof GcsApiError) return error.status;
    throw error;
  }
}

describe('crc32c', () => {
  it('matches the CRC-32C check value and GCS encoding', () => {
    expect(new Crc32c().update(Buffer.from('123456789')).value).toBe(0xe3069283);
    expect(crc32cBase64(Buffer.from('123456789'))).toBe('4waSgw==');
    expect(crc32cBase64(Buffer.alloc(0))).toBe('AAAAAA==');
  });

  it('gives the same value fed in pieces as in one go', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
    const pieces = new Crc32c()
      .update(data.subarray(0, 3))
      .update(data.subarray(3, 517))
      .update(data.subarray(517));
    expect(pieces.base64).toBe(crc32cBase64(data));
  });
});

describe('object file names', () => {
  it.each([
    ['../escape', '%2E.%2Fescape'],
    ['..', '%2E.'],
    ['a/b=1/c.ndjson.gz', 'a%2Fb%3D1%2Fc.ndjson.gz'],
    ['~tilde', '%7Etilde'],
    ['é', '%C3%A9'],
  ])('encodes %j as the flat, dot-safe stem %j', (name, stem) => {
    expect(objectFileStem(name)).toBe(stem);
  });

  it('hashes names whose encoding would be too long, distinctly', () => {
    const a = objectFileStem('x/'.repeat(400));
    const b = objectFileStem(`${'x/'.repeat(399)}y/`);
    expect(a).toMatch(/^~[0-9a-f]{64}$/);
    expect(b).not.toBe(a);
  });

  it.each([
    ['ok/name.txt', 'ok'],
    ['', 400],
    ['.', 400],
    ['..', 400],
    ['a\nb', 400],
    ['x'.repeat(1025), 400],
    ['\ud800', 400],
  ])('validates the object name %j: %s', (name, expected) => {
    expect(statusOf(() => validateObjectName(name))).toBe(expected);
  });

  it.each([
    ['fleet-features', 'ok'],
    ['a.b.c', 'ok'],
    ['ab', 400],
    ['Upper', 400],
    ['../x', 400],
    ['.hidden', 400],
    ['goog-bucket', 400],
    ['192.168.1.1', 400],
  ])('validates the bucket name %j: %s', (name, expected) => {
    expect(statusOf(() => validateBucketName(name))).toBe(expected);
  });
});

describe('listPage', () => {
  const objects = new Map(
    ['a/1', 'a/2', 'a/x/3', 'b', 'c/', 'c/4', 'd/5'].map((name) => [name, name] as const),
  );

  it('rolls names up to prefixes and counts prefixes and items together per page', () => {
    const pages = [];
    let pageToken: string | undefined;
    do {
      const page = listPage(objects, { delimiter: '/', maxResults: 2, ...(pageToken ? { pageToken } : {}) });
      pages.push({ items: page.items, prefixes: page.prefixes });
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(pages).toEqual([
      { items: ['b'], prefixes: ['a/'] },
      { items: [], prefixes: ['c/', 'd/'] },
    ]);
  });

  it('filters by prefix and offsets, and can include objects named like their prefix', () => {
    expect(listPage(objects, { prefix: 'a/', delimiter: '/' })).toEqual({
      items: ['a/1', 'a/2'],
      prefixes: ['a/x/'],
    });
    expect(listPage(objects, { startOffset: 'a/2', endOffset: 'c/4' }).items).toEqual([
      'a/2',
      'a/x/3',
      'b',
      'c/',
    ]);
    expect(listPage(objects, { prefix: 'c', delimiter: '/', includeTrailingDelimiter: true })).toEqual({
      items: ['c/'],
      prefixes: ['c/'],
    });
  });

  it('orders by UTF-8 bytes as GCS does', () => {
    const names = new Map(['\u{1F600}', '\uFFFD', 'z'].map((n) => [n, n] as const));
    expect(listPage(names, {}).items).toEqual(['z', '\uFFFD', '\u{1F600}']);
  });

  it('rejects a token it did not issue', () => {
    expect(statusOf(() => listPage(objects, { pageToken: 'not-a-token' }))).toBe(400);
  });
});

describe('byte ranges', () => {
  it.each([
    ['bytes 0-262143/*', { kind: 'data', start: 0, end: 262143, total: undefined }],
    ['bytes 262144-524287/600000', { kind: 'data', start: 262144, end: 524287, total: 600000 }],
    ['bytes 0-*/*', { kind: 'data', start: 0, end: undefined, total: undefined }],
    ['bytes */*', { kind: 'status', total: undefined }],
    ['bytes */42', { kind: 'status', total: 42 }],
  ])('parses the upload Content-Range %j', (header, expected) => {
    expect(parseUploadContentRange(header)).toEqual(expected);
  });

  it.each(['bytes 5-1/10', 'items 0-1/2', 'bytes 0-1'])('rejects the upload Content-Range %j', (header) => {
    expect(statusOf(() => parseUploadContentRange(header))).toBe(400);
  });

  it.each([
    ['bytes=2-4', 10, { start: 2, end: 4 }],
    ['bytes=7-', 10, { start: 7, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=0-1,4-5', 10, undefined],
    [undefined, 10, undefined],
  ] as const)('reads the download Range %j of a %d-byte object', (header, size, expected) => {
    expect(parseDownloadRange(header, size)).toEqual(expected);
  });
});

describe('multipart/related', () => {
  it('splits the metadata and media parts as the client sends them', () => {
    const body = Buffer.from(
      '--b1\r\nContent-Type: application/json\r\n\r\n{"name":"x"}\r\n' +
        '--b1\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n--b1--',
    );
    const parts = parseMultipartRelated(body, 'b1');
    expect(parts.map((p) => [p.headers.get('content-type'), p.body.toString()])).toEqual([
      ['application/json', '{"name":"x"}'],
      ['text/plain', 'line1\r\nline2'],
    ]);
  });

  it('splits the body gcloud sends: bare LF line breaks, extra part headers, a trailing newline', () => {
    const boundary = '===============5157055196989590461==';
    const body = Buffer.from(
      `--${boundary}\nContent-Type: application/json\nMIME-Version: 1.0\n\n{"name": "small.txt"}\n` +
        `--${boundary}\nContent-Type: text/plain\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\n\n` +
        `hello\n\n--${boundary}--\n`,
    );
    const parts = parseMultipartRelated(body, boundary);
    expect(parts.map((p) => [p.headers.get('content-type'), p.body.toString()])).toEqual([
      ['application/json', '{"name": "small.txt"}'],
      ['text/plain', 'hello\n'],
    ]);
  });

  it('keeps a trailing CR of the media when lines end in bare LF', () => {
    const body = Buffer.from('--b1\nContent-Type: application/json\n\n{}\n--b1\n\nabc\r\n--b1--\n');
    expect(parseMultipartRelated(body, 'b1')[1]?.body.toString()).toBe('abc\r');
  });

  it('takes parts without headers, empty parts and a preamble', () => {
    const body = Buffer.from('preamble\r\n--b1\r\n\r\n{}\r\n--b1\r\n\r\n\r\n--b1--');
    expect(parseMultipartRelated(body, 'b1').map((p) => [p.headers.size, p.body.toString()])).toEqual([
      [0, '{}'],
      [0, ''],
    ]);
  });

  it.each([
    ['multipart/related; boundary=b1', 'b1'],
    ['multipart/related; boundary="a b:c"', 'a b:c'],
    [
      "multipart/related; boundary='===============0395861207301731319=='",
      '===============0395861207301731319==',
    ],
    ['Multipart/Related; type="application/json"; boundary=x_y', 'x_y'],
  ])('reads the boundary of %s', (contentType, boundary) => {
    expect(multipartBoundary(contentType)).toBe(boundary);
  });

  it('rejects a body without its closing delimiter', () => {
    expect(statusOf(() => parseMultipartRelated(Buffer.from('--b1\r\n\r\nabc'), 'b1'))).toBe(400);
    expect(statusOf(() => parseMultipartRelated(Buffer.from('--b1\n\nabc'), 'b1'))).toBe(400);
  });
});

describe('compose requests', () => {
  it('reads sources with their generation and precondition, and the destination metadata', () => {
    expect(
      parseComposeRequest({
        destination: { contentType: 'text/plain', crc32c: 'AAAAAA==' },
        sourceObjects: [
          { name: 'a', generation: '12', objectPreconditions: { ifGenerationMatch: 12 } },
          { name: 'b' },
        ],
      }),
    ).toEqual({
      destination: { attributes: { contentType: 'text/plain' }, expected: { crc32c: 'AAAAAA==' } },
      sources: [{ name: 'a', generation: '12', ifGenerationMatch: '12' }, { name: 'b' }],
    });
  });

  it.each([
    ['no sources', { sourceObjects: [] }],
    ['a source without a name', { sourceObjects: [{ generation: '1' }] }],
    ['33 sources', { sourceObjects: Array.from({ length: 33 }, (_, i) => ({ name: `p${i}` })) }],
    ['a bad generation', { sourceObjects: [{ name: 'a', generation: 'x' }] }],
  ])('refuses %s with 400', (_label, body) => {
    expect(statusOf(() => parseComposeRequest(body))).toBe(400);
  });
});

describe('query parameters', () => {
  const check = (query: string) => () => checkQuery(new URLSearchParams(query), 'objects.list', ['prefix']);
  it.each([
    ['prefix=a&projection=noAcl&fields=items%2Fname&prettyPrint=false&alt=json', 'ok'],
    ['includeFoldersAsPrefixes=True&userProject=p', 'ok'],
    ['enableObjectRetention=False&softDeleted=false', 'ok'],
    ['enableObjectRetention=True', 501],
    ['softDeleted=true', 501],
    ['softDeleted=maybe', 400],
    ['matchGlob=**.txt', 501],
  ] as const)('%s: %s', (query, expected) => {
    expect(statusOf(check(query))).toBe(expected);
  });
});

describe('object metadata', () => {
  it('keeps writable fields, ignores output-only ones and refuses unknown ones with 501', () => {
    expect(
      parseUploadMetadata({
        name: 'n',
        contentType: 'text/plain',
        size: '3',
        crc32c: 'AAAAAA==',
        metadata: { a: 1 },
      }),
    ).toEqual({
      name: 'n',
      attributes: { contentType: 'text/plain', metadata: { a: '1' } },
      expected: { crc32c: 'AAAAAA==' },
    });
    expect(statusOf(() => parseUploadMetadata({ temporaryHold: true }))).toBe(501);
  });

  it('patches: null clears, metadata merges key by key', () => {
    const patched = applyObjectPatch(
      { contentType: 'text/plain', cacheControl: 'no-cache', metadata: { a: '1', b: '2' } },
      { cacheControl: null, metadata: { a: null, c: '3' } },
    );
    expect(patched).toEqual({ contentType: 'text/plain', metadata: { b: '2', c: '3' } });
  });
});

describe('preconditions', () => {
  const live = { generation: '100', metageneration: '2' };
  it.each<[string, Preconditions, 'read' | 'write', typeof live | undefined, number | 'ok']>([
    ['generation 0 on a missing object', { ifGenerationMatch: '0' }, 'write', undefined, 'ok'],
    ['generation 0 on a live object', { ifGenerationMatch: '0' }, 'write', live, 412],
    ['the live generation', { ifGenerationMatch: '100' }, 'write', live, 'ok'],
    ['a stale generation', { ifGenerationMatch: '99' }, 'write', live, 412],
    ['not the live generation, write', { ifGenerationNotMatch: '100' }, 'write', live, 412],
    ['not the live generation, read', { ifGenerationNotMatch: '100' }, 'read', live, 304],
    ['must exist (not-match 0), missing', { ifGenerationNotMatch: '0' }, 'write', undefined, 412],
    ['the live metageneration', { ifMetagenerationMatch: '2' }, 'write', live, 'ok'],
    ['a stale metageneration', { ifMetagenerationMatch: '1' }, 'write', live, 412],
  ])('%s', (_label, preconditions, kind, current, expected) => {
    expect(statusOf(() => checkPreconditions(current, preconditions, kind))).toBe(expected);
  });
});
