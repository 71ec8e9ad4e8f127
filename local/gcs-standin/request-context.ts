import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiskObjectStore } from './disk-object-store.js';
import type { ResumableSessions } from './resumable-sessions.js';

/** What every handler gets: the exchange, its parsed query, and the backing state. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** `http://host:port` as the client addressed us; links in resources use it. */
  baseUrl: string;
  store: DiskObjectStore;
  sessions: ResumableSessions;
}
