// A scripted HTTP peer for the local Workflows runner: a fetch that answers by method and path from
// a table of handlers and records every request (method, path, query, headers, JSON body).

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

export type Answer = { status?: number; body?: unknown; contentType?: string } | 'refuse';
export type Handler = (request: RecordedRequest, nth: number) => Answer;

export interface FakeHttp {
  fetch: typeof fetch;
  requests: RecordedRequest[];
  count(method: string, path: string): number;
}

/** `routes` keys are "METHOD /path" (a trailing * matches any rest of the path). */
export function fakeHttp(routes: Record<string, Handler>): FakeHttp {
  const requests: RecordedRequest[] = [];
  const seen = new Map<string, number>();
  const match = (method: string, path: string) =>
    Object.entries(routes).find(([key]) => {
      const [m, p] = key.split(' ') as [string, string];
      return m === method && (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : p === path);
    });
  const fetcher = (async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const text = init?.body === undefined || init.body === null ? undefined : String(init.body);
    const request: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(new Headers(init?.headers as ConstructorParameters<typeof Headers>[0])),
      body: text === undefined ? undefined : JSON.parse(text),
    };
    requests.push(request);
    const route = match(method, url.pathname);
    const key = route?.[0] ?? 'none';
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    const answer: Answer =
      route === undefined ? { status: 404, body: { error: { code: 'not_found' } } } : route[1](request, nth);
    if (answer === 'refuse') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const body =
      answer.body === undefined
        ? ''
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body);
    return new Response(body, {
      status: answer.status ?? 200,
      headers: { 'content-type': answer.contentType ?? 'application/json' },
    });
  }) as typeof fetch;
  return {
    fetch: fetcher,
    requests,
    count: (method, path) => requests.filter((r) => r.method === method && r.path === path).length,
  };
}
