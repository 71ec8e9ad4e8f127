import { badRequest } from './api-error.js';

export interface ListQuery {
  prefix?: string;
  delimiter?: string;
  maxResults?: number;
  pageToken?: string;
  startOffset?: string;
  endOffset?: string;
  includeTrailingDelimiter?: boolean;
}

export interface ListPage<T> {
  items: T[];
  prefixes: string[];
  nextPageToken?: string;
}

export const MAX_LIST_RESULTS = 1000;

/** GCS orders names by their UTF-8 bytes, which is code point order (not UTF-16 unit order). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

interface PageCursor {
  /** The last name or prefix returned. */
  after: string;
  /** True when `after` was a prefix: every name under it was already summarised. */
  prefix: boolean;
}

function encodeToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeToken(token: string): PageCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      typeof (parsed as PageCursor).after === 'string' &&
      typeof (parsed as PageCursor).prefix === 'boolean'
    ) {
      return parsed as PageCursor;
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest(`Invalid pageToken: ${token}`);
}

/**
 * objects.list over the live names: `prefix`, `delimiter` (rolled-up
 * `prefixes`), `startOffset`/`endOffset`, and pages of at most `maxResults`
 * entries counting items and prefixes together, as GCS does.
 */
export function listPage<T>(objects: ReadonlyMap<string, T>, query: ListQuery): ListPage<T> {
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter ?? '';
  const maxResults = Math.min(query.maxResults ?? MAX_LIST_RESULTS, MAX_LIST_RESULTS);
  const cursor = query.pageToken ? decodeToken(query.pageToken) : undefined;

  const names = [...objects.keys()]
    .filter(
      (name) =>
        name.startsWith(prefix) &&
        (query.startOffset === undefined || compareNames(name, query.startOffset) >= 0) &&
        (query.endOffset === undefined || compareNames(name, query.endOffset) < 0) &&
        (cursor === undefined ||
          (compareNames(name, cursor.after) > 0 && !(cursor.prefix && name.startsWith(cursor.after)))),
    )
    .map((name) => ({ name, key: Buffer.from(name, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((entry) => entry.name);

  const page: ListPage<T> = { items: [], prefixes: [] };
  let entries = 0;
  let last: PageCursor | undefined;
  for (const name of names) {
    const rolledUp = delimiter ? rollUp(name, prefix, delimiter) : undefined;
    if (rolledUp !== undefined && last?.prefix && last.after === rolledUp) {
      // Already summarised by the prefix just emitted.
      continue;
    }
    if (entries >= maxResults) {
      page.nextPageToken = encodeToken(last!);
      break;
    }
    if (rolledUp !== undefined) {
      page.prefixes.push(rolledUp);
      if (query.includeTrailingDelimiter && name === rolledUp) page.items.push(objects.get(name)!);
      last = { after: rolledUp, prefix: true };
    } else {
      page.items.push(objects.get(name)!);
      last = { after: name, prefix: false };
    }
    entries++;
  }
  return page;
}

function rollUp(name: string, prefix: string, delimiter: string): string | undefined {
  const at = name.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : name.slice(0, at + delimiter.length);
}
