import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { badRequest, notImplemented } from './api-error.js';
import type { DiskObjectStore } from './disk-object-store.js';
import { sendError } from './http-io.js';
import {
  deleteBucket,
  deleteObject,
  getBucket,
  getObjectMetadata,
  getStorageLayout,
  insertBucket,
  listBuckets,
  listManagedFolders,
  listObjects,
  patchObject,
} from './json-api-handlers.js';
import { composeObject } from './object-compose.js';
import { downloadObject } from './object-download.js';
import { rewriteObject } from './object-rewrite.js';
import type { RequestContext } from './request-context.js';
import type { ResumableSessions } from './resumable-sessions.js';
import { cancelResumableUpload, insertObject, putResumableChunk } from './upload-handlers.js';

type Api = 'json' | 'upload' | 'download';

interface Route {
  api: Api;
  /** Path segments after the API prefix, percent-decoded: ['b', bucket, 'o', object, ...]. */
  segments: string[];
}

const PREFIXES: [string, Api][] = [
  ['/storage/v1/', 'json'],
  ['/upload/storage/v1/', 'upload'],
  // gcloud (apitools) starts resumable uploads here; Google serves both paths.
  ['/resumable/upload/storage/v1/', 'upload'],
  ['/download/storage/v1/', 'download'],
  // STORAGE_EMULATOR_HOST=http://host:port makes the Node client call /b/... directly.
  ['/', 'json'],
];

function resolveRoute(rawPath: string): Route | undefined {
  for (const [prefix, api] of PREFIXES) {
    if (!rawPath.startsWith(prefix)) continue;
    const segments = rawPath.slice(prefix.length).split('/');
    if (segments[0] !== 'b') continue;
    try {
      // Object names arrive percent-encoded (`a%2Fb`); a raw `/` separates a sub-resource.
      return { api, segments: segments.map((s) => decodeURIComponent(s)) };
    } catch {
      throw badRequest(`Invalid percent-encoding in path: ${rawPath}`);
    }
  }
  return undefined;
}

function unsupported(method: string, rawPath: string): never {
  throw notImplemented(`${method} ${rawPath}`);
}

async function dispatch(ctx: RequestContext, method: string, rawPath: string): Promise<void> {
  const route = resolveRoute(rawPath);
  if (!route) unsupported(method, rawPath);
  const [, bucket, collection, object, ...subResource] = route.segments;
  const depth = route.segments.length;
  if (route.api === 'json') {
    if (depth === 1) {
      if (method === 'GET') return listBuckets(ctx);
      if (method === 'POST') return insertBucket(ctx);
    } else if (depth === 2 && bucket) {
      if (method === 'GET') return getBucket(ctx, bucket);
      if (method === 'DELETE') return deleteBucket(ctx, bucket);
    } else if (depth === 3 && bucket && collection === 'o') {
      if (method === 'GET') return listObjects(ctx, bucket);
    } else if (depth === 3 && bucket && collection === 'storageLayout') {
      if (method === 'GET') return getStorageLayout(ctx, bucket);
    } else if (depth === 3 && bucket && collection === 'managedFolders') {
      if (method === 'GET') return listManagedFolders(ctx, bucket);
    } else if (depth === 4 && bucket && collection === 'o' && object) {
      if (method === 'GET') {
        const alt = ctx.query.get('alt') ?? 'json';
        if (alt === 'media') return downloadObject(ctx, bucket, object);
        if (alt !== 'json') throw badRequest(`Invalid value for alt: ${alt}`);
        return getObjectMetadata(ctx, bucket, object);
      }
      if (method === 'DELETE') return deleteObject(ctx, bucket, object);
      if (method === 'PATCH') return patchObject(ctx, bucket, object);
    } else if (depth === 5 && bucket && collection === 'o' && object && subResource[0] === 'compose') {
      if (method === 'POST') return composeObject(ctx, bucket, object);
    } else if (
      depth === 9 &&
      bucket &&
      collection === 'o' &&
      object &&
      subResource[0] === 'rewriteTo' &&
      subResource[1] === 'b' &&
      subResource[2] &&
      subResource[3] === 'o' &&
      subResource[4]
    ) {
      if (method === 'POST') {
        return rewriteObject(ctx, { bucket, name: object }, { bucket: subResource[2], name: subResource[4] });
      }
    } else if (subResource.length > 0) {
      unsupported(method, `${rawPath} (sub-resource '${subResource.join('/')}')`);
    }
  } else if (route.api === 'upload' && depth === 3 && bucket && collection === 'o') {
    if (method === 'POST') return insertObject(ctx, bucket);
    if (method === 'PUT') return putResumableChunk(ctx, bucket);
    if (method === 'DELETE') return cancelResumableUpload(ctx, bucket);
  } else if (route.api === 'download' && depth === 4 && bucket && collection === 'o' && object) {
    if (method === 'GET') return downloadObject(ctx, bucket, object);
  }
  unsupported(method, rawPath);
}

export function createStandinServer(store: DiskObjectStore, sessions: ResumableSessions): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const ctx: RequestContext = {
      req,
      res,
      query: new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1)),
      baseUrl: `http://${req.headers.host ?? 'localhost'}`,
      store,
      sessions,
    };
    dispatch(ctx, req.method ?? 'GET', rawPath).catch((error: unknown) => sendError(res, error));
  });
  // Like Google's front ends, keep idle connections well past Node's 5 s client-side reuse window:
  // with equal timeouts a client reuses a socket the server is closing ("socket hang up").
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
