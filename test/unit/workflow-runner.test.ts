// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Workflows expressions are ${...} in plain strings
// The local Workflows runner, construct by construct, on small workflows and a scripted HTTP peer:
// assign (variables, map keys, list elements, by value), call http.get/post (request and answer
// shapes, HttpError, connection errors, auth checked and ignored), sys.log, subworkflow calls,
// switch with condition/next and steps, next and end, return, raise, try/retry/except (backoff,
// predicate, except scope), the step log; and a clear refusal, naming the step, of valid Workflows
// syntax it does not implement.

import { describe, expect, it } from 'vitest';
import { getFreePort } from '../../local/servers/free-port.js';
import { UnsupportedSyntaxError, WorkflowSyntaxError } from '../../local/workflows/workflow-errors.js';
import { LocalWorkflow, type StepLogEntry } from '../../local/workflows/workflow-runner.js';
import { fakeHttp } from '../helpers/fake-http.js';

const T = 'http://trainer.test';

async function run(
  yaml: string,
  argument: unknown = null,
  options: Parameters<LocalWorkflow['run']>[1] = {},
) {
  const log: StepLogEntry[] = [];
  const sleeps: number[] = [];
  const result = await LocalWorkflow.fromText(yaml, 'test.yaml').run(argument as never, {
    onStep: (e) => log.push(e),
    sleepMs: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { result, log, sleeps };
}

describe('assign', () => {
  it('sets variables in order, map keys, list elements; values are copies', async () => {
    const { result } = await run(`
main:
  steps:
    - init:
        assign:
          - a: 1
          - b: \${a + 1}
          - m: {"k": [1, 2], "n": {"x": 1}}
          - m.added: \${b}
          - m["with key"]: x
          - m.k[1]: 20
          - copy: \${m.n}
          - copy.x: 99
    - done:
        return: ["\${a}", "\${b}", "\${m}", "\${copy}"]
`);
    expect(result).toMatchObject({
      state: 'SUCCEEDED',
      result: [1, 2, { k: [1, 20], n: { x: 1 }, added: 2, 'with key': 'x' }, { x: 99 }],
    });
  });
});

describe('call http.get and http.post', () => {
  const yaml = `
main:
  params: [args]
  steps:
    - get:
        call: http.get
        args:
          url: \${args.url + "/v1/runs/r1"}
          query: {"verbose": true, "tag": ["a", "b"]}
          headers: {"X-Trace": "t1"}
          auth:
            type: OIDC
            audience: \${args.url}
          timeout: 30
        result: got
    - post:
        call: http.post
        args:
          url: \${args.url + "/v1/quality"}
          auth:
            type: OIDC
          body:
            data_interval_start: "2026-05-04T00:00:00Z"
            nested: {"n": "\${got.body.n}"}
        result: posted
    - done:
        return: {"get": "\${got.code}", "status": "\${got.body.status}", "post": "\${posted.body}", "type": "\${posted.headers[\\"content-type\\"]}"}
`;

  it('sends the request Workflows would and answers {code, headers, body} with JSON decoded', async () => {
    const http = fakeHttp({
      'GET /v1/runs/r1': () => ({ body: { status: 'promoted', n: 3 } }),
      'POST /v1/quality': (request) => ({ body: { echoed: request.body } }),
    });
    const { result, log } = await run(yaml, { url: T }, { fetch: http.fetch });
    expect(result).toMatchObject({
      state: 'SUCCEEDED',
      result: {
        get: 200,
        status: 'promoted',
        post: { echoed: { data_interval_start: '2026-05-04T00:00:00Z', nested: { n: 3 } } },
        type: 'application/json',
      },
    });
    expect(http.requests[0]).toMatchObject({
      method: 'GET',
      query: { verbose: 'true', tag: 'b' },
      headers: { 'x-trace': 't1' },
    });
    expect(http.requests[0]!.headers.authorization).toBeUndefined();
    expect(http.requests[1]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(log.map((e) => `${e.step}: ${e.message}`)).toContain(
      `main › get: http.get ${T}/v1/runs/r1?verbose=true&tag=a&tag=b`,
    );
  });

  it('raises HttpError {tags, code, headers, body, message} for a status of 400 or more', async () => {
    const http = fakeHttp({
      'GET /v1/runs/r1': () => ({ status: 404, body: { error: { code: 'run_not_found' } } }),
    });
    const { result } = await run(yaml, { url: T }, { fetch: http.fetch });
    expect(result).toMatchObject({
      state: 'FAILED',
      error: {
        tags: ['HttpError'],
        code: 404,
        message: 'HTTP server responded with error code 404',
        body: { error: { code: 'run_not_found' } },
        headers: { 'content-type': 'application/json' },
      },
    });
  });

  it('raises ConnectionError when nothing answers, and TimeoutError past the timeout', async () => {
    const closedPort = await getFreePort();
    const refused = await run(yaml, { url: `http://127.0.0.1:${closedPort}` });
    expect(refused.result).toMatchObject({
      state: 'FAILED',
      error: { tags: ['ConnectionFailedError', 'ConnectionError'] },
    });
    const slow = (async (_url: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      )) as typeof fetch;
    const timedOut = await run(
      `
main:
  steps:
    - get:
        call: http.get
        args:
          url: ${T}/slow
          timeout: 0.05
`,
      null,
      { fetch: slow },
    );
    expect(timedOut.result).toMatchObject({ state: 'FAILED', error: { tags: ['TimeoutError'] } });
  });

  it('checks auth: a type other than OIDC or OAuth2 is refused before any request', async () => {
    expect(() =>
      LocalWorkflow.fromText(
        `
- get:
    call: http.get
    args:
      url: ${T}
      auth:
        type: Basic
`,
        'test.yaml',
      ),
    ).toThrow(/auth type is OIDC or OAuth2/);
    const http = fakeHttp({});
    const { result } = await run(
      `
main:
  params: [args]
  steps:
    - get:
        call: http.get
        args:
          url: ${T}
          auth: \${args.auth}
`,
      { auth: { type: 'Basic' } },
      { fetch: http.fetch },
    );
    expect(result).toMatchObject({ state: 'FAILED', error: { tags: ['TypeError'] } });
    expect(http.requests).toHaveLength(0);
  });
});

describe('sys.log, sys.get_env and subworkflows', () => {
  it('logs at a severity, reads the environment, calls a subworkflow with its params and takes its return', async () => {
    const { result, log } = await run(
      `
main:
  steps:
    - call_sub:
        call: add
        args:
          a: 2
          b: \${sys.get_env("OFFSET", "1970-01-01T00:00:00Z")}
        result: sum
    - log_it:
        call: sys.log
        args:
          severity: WARNING
          json: {"sum": "\${sum}", "execution": "\${sys.get_env(\\"GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID\\")}"}
    - done:
        return: \${sum}
add:
  params: [a, b]
  steps:
    - compute:
        return: \${a + time.parse(b)}
`,
      null,
      { env: { OFFSET: '1970-01-01T00:00:40Z' }, executionId: 'exec-1' },
    );
    expect(result).toMatchObject({ state: 'SUCCEEDED', result: 42, executionId: 'exec-1' });
    const logged = log.find((e) => e.kind === 'log')!;
    expect(logged).toMatchObject({
      step: 'main › log_it',
      severity: 'WARNING',
      payload: { sum: 42, execution: 'exec-1' },
    });
    expect(log.map((e) => e.step)).toContain('main › call_sub › add › compute');
  });

  it('fails a subworkflow call that misses an argument', async () => {
    const { result } = await run(`
main:
  steps:
    - call_sub:
        call: sub
        args:
          a: 1
sub:
  params: [a, b]
  steps:
    - done:
        return: \${a}
`);
    expect(result).toMatchObject({
      state: 'FAILED',
      error: { tags: ['TypeError'], message: 'sub: missing argument b' },
    });
  });
});

describe('switch, next, end, return and raise', () => {
  const yaml = `
main:
  params: [args]
  steps:
    - start:
        assign:
          - path: []
    - choose:
        switch:
          - condition: \${args.n > 10}
            next: big
          - condition: \${args.n > 5}
            steps:
              - medium_inside:
                  assign:
                    - path: \${["medium"]}
          - condition: true
            next: small
        next: after_medium
    - big:
        return: big
    - small:
        assign:
          - path: \${["small"]}
        next: end
    - after_medium:
        switch:
          - condition: \${args.n == 7}
            next: seven
    - not_seven:
        raise: {"code": "not_seven", "n": "\${args.n}"}
    - seven:
        raise: seven
`;

  it.each([
    [11, { state: 'SUCCEEDED', result: 'big' }],
    [1, { state: 'SUCCEEDED', result: null }],
    [7, { state: 'FAILED', error: 'seven' }],
    [6, { state: 'FAILED', error: { code: 'not_seven', n: 6 } }],
  ])('n = %i', async (n, expected) => {
    const { result } = await run(yaml, { n });
    expect(result).toMatchObject(expected);
  });

  it('a condition that is not a boolean is a TypeError', async () => {
    const { result } = await run(yaml, { n: 'seven' });
    expect(result).toMatchObject({ state: 'FAILED', error: { tags: ['TypeError'] } });
  });

  it('logs which condition held and where it jumped', async () => {
    const { log } = await run(yaml, { n: 6 });
    expect(log.map((e) => `${e.step}: ${e.message}`)).toEqual([
      'main › start: assign path',
      'main › choose: condition 2 of 3 true',
      'main › choose › medium_inside: assign path',
      'main › after_medium: no condition true',
      'main › not_seven: raise {"code":"not_seven","n":6}',
    ]);
  });
});

describe('try, retry, except', () => {
  const yaml = (maxRetries: number) =>
    `
main:
  steps:
    - init:
        assign:
          - outcome: none
    - call_it:
        try:
          call: http.post
          args:
            url: ${T}/v1/train
            body: {}
          result: response
        retry:
          predicate: \${http.default_retry_predicate}
          max_retries: ${maxRetries}
          backoff:
            initial_delay: 2
            max_delay: 10
            multiplier: 2
        except:
          as: e
          steps:
            - remember:
                assign:
                  - outcome: \${"caught " + string_code}
                  - local_only: 1
              `.replace('${"caught " + string_code}', '${e.tags}') +
    `
    - done:
        return: {"outcome": "\${outcome}", "response": "\${default(map.get(response, \\"body\\"), null)}"}
`;

  it('retries 429, 502, 503, 504 with backoff initial_delay * multiplier^n capped at max_delay', async () => {
    const codes = [503, 429, 502, 504, 503];
    const http = fakeHttp({
      'POST /v1/train': (_r, nth) =>
        nth <= codes.length ? { status: codes[nth - 1]! } : { body: { version: 'v1' } },
    });
    const { result, sleeps } = await run(
      yaml(5).replace(
        '    - init:\n        assign:\n          - outcome: none',
        '    - init:\n        assign:\n          - outcome: none\n          - response: null',
      ),
      null,
      {
        fetch: http.fetch,
      },
    );
    expect(result).toMatchObject({
      state: 'SUCCEEDED',
      result: { outcome: 'none', response: { version: 'v1' } },
    });
    expect(sleeps).toEqual([2000, 4000, 8000, 10_000, 10_000]);
    expect(http.count('POST', '/v1/train')).toBe(6);
  });

  it('hands the error to except once retries run out; variables made in except stay there', async () => {
    const http = fakeHttp({ 'POST /v1/train': () => ({ status: 503 }) });
    const workflow = yaml(2).replace(
      '          - outcome: none',
      '          - outcome: none\n          - response: null',
    );
    const { result, sleeps } = await run(workflow, null, { fetch: http.fetch });
    expect(result).toMatchObject({ state: 'SUCCEEDED', result: { outcome: ['HttpError'], response: null } });
    expect(sleeps).toEqual([2000, 4000]);
    expect(http.count('POST', '/v1/train')).toBe(3);
    const leak = await run(
      `${workflow.split('    - done:')[0]}    - done:\n        return: \${local_only}\n`,
      null,
      {
        fetch: http.fetch,
      },
    );
    expect(leak.result).toMatchObject({ state: 'FAILED', error: { tags: ['KeyError'] } });
  });

  it.each([500, 404, 422])(
    'does not retry %i (the default predicate), straight to except',
    async (status) => {
      const http = fakeHttp({ 'POST /v1/train': () => ({ status }) });
      const { sleeps } = await run(
        yaml(5).replace('          - outcome: none', '          - outcome: none\n          - response: null'),
        null,
        {
          fetch: http.fetch,
        },
      );
      expect(sleeps).toEqual([]);
      expect(http.count('POST', '/v1/train')).toBe(1);
    },
  );

  it('retries connection errors; an uncaught error fails the execution with its map', async () => {
    const http = fakeHttp({ 'POST /v1/train': () => 'refuse' });
    const { result, sleeps } = await run(
      `
main:
  steps:
    - call_it:
        try:
          steps:
            - post:
                call: http.post
                args:
                  url: ${T}/v1/train
        retry:
          predicate: \${http.default_retry_predicate}
          max_retries: 1
          backoff:
            initial_delay: 1
            max_delay: 1
            multiplier: 1
`,
      null,
      { fetch: http.fetch },
    );
    expect(sleeps).toEqual([1000]);
    expect(result).toMatchObject({
      state: 'FAILED',
      error: { tags: ['ConnectionFailedError', 'ConnectionError'] },
    });
  });
});

describe('refused before running', () => {
  it.each([
    [
      'a for loop',
      `
- loop:
    for:
      value: v
      in: [1, 2]
      steps:
        - body:
            assign:
              - x: \${v}
`,
      'main › loop: a for step',
    ],
    [
      'parallel branches',
      `
main:
  steps:
    - fan_out:
        parallel:
          branches:
            - one:
                steps:
                  - a:
                      assign:
                        - x: 1
            - two:
                steps:
                  - b:
                      assign:
                        - y: 1
`,
      'main › fan_out: a parallel step',
    ],
    [
      'sys.sleep',
      '- wait:\n    call: sys.sleep\n    args:\n      seconds: 1\n',
      'main › wait: call: sys.sleep',
    ],
    [
      'a connector',
      '- q:\n    call: googleapis.bigquery.v2.jobs.query\n    args: {}\n',
      'main › q: call: googleapis.bigquery.v2.jobs.query',
    ],
    [
      'a standard function the file does not use',
      '- a:\n    assign:\n      - s: ${text.substring("abc", 0, 1)}\n',
      'main › a: the function text.substring()',
    ],
    [
      'a named retry policy',
      `
- get:
    try:
      call: http.get
      args:
        url: ${T}
    retry: \${http.default_retry}
`,
      'main › get: retry: ${http.default_retry} (a policy by name)',
    ],
    [
      'return inside a switch condition',
      '- pick:\n    switch:\n      - condition: true\n        return: 1\n',
      'main › pick: return inside a switch condition (use next or steps)',
    ],
    [
      'a parameter default',
      'main:\n  params: [args]\n  steps:\n    - a:\n        call: sub\nsub:\n  params: [x: 1]\n  steps:\n    - b:\n        return: ${x}\n',
      'sub: a parameter default (x)',
    ],
    [
      'private_service_name',
      `- g:\n    call: http.get\n    args:\n      url: ${T}\n      private_service_name: svc\n`,
      'main › g: the http.get argument private_service_name',
    ],
  ])('%s: UnsupportedSyntaxError naming the step', (_what, yaml, message) => {
    let error: unknown;
    try {
      LocalWorkflow.fromText(yaml, 'test.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedSyntaxError);
    expect((error as Error).message).toContain(`test.yaml: step ${message} is valid Cloud Workflows syntax`);
  });

  it('invalid Workflows syntax is a WorkflowSyntaxError, not an unsupported construct', () => {
    expect(() =>
      LocalWorkflow.fromText('- a:\n    assign:\n      - x: 1\n    call: http.get\n', 'test.yaml'),
    ).toThrow(WorkflowSyntaxError);
  });
});
