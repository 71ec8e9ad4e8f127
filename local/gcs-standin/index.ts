import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { type FaultInjector, interceptRequests } from '../fault-injection/fault-injector.js';
import { DiskObjectStore } from './disk-object-store.js';
import { ResumableSessions } from './resumable-sessions.js';
import { createStandinServer } from './server.js';

export interface GcsStandin {
  /** `http://127.0.0.1:PORT`: pass as `apiEndpoint` to `new Storage(...)`. */
  url: string;
  /**
   * `127.0.0.1:PORT`, the STORAGE_EMULATOR_HOST convention of other languages' clients.
   * The Node client turns a scheme-less host into https: give it `url` instead.
   */
  host: string;
  /** Absolute path of the folder holding the buckets. */
  root: string;
  close(): Promise<void>;
}

/**
 * Starts a local HTTP server speaking the subset of the GCS JSON API v1 that
 * `@google-cloud/storage` and `gcloud storage` use (buckets, media/multipart/
 * resumable uploads, compose, downloads, list, delete, patch, generation
 * preconditions), backed by `root`.
 */
export async function startGcsStandin(options: {
  root: string;
  port?: number;
  host?: string;
  /** Fails a configurable share of writes (the chaos suite; local/fault-injection). */
  faults?: FaultInjector;
}): Promise<GcsStandin> {
  const root = resolve(options.root);
  const store = await DiskObjectStore.open(root);
  const server = createStandinServer(store, new ResumableSessions(store));
  if (options.faults) {
    interceptRequests(server, options.faults, (request) =>
      request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write',
    );
  }
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const host = `${hostname}:${address.port}`;
  return {
    url: `http://${host}`,
    host,
    root,
    close: async () => {
      const closed = new Promise<void>((done, fail) =>
        server.close((error) => (error ? fail(error) : done())),
      );
      server.closeAllConnections();
      await closed;
    },
  };
}
