// A local Cloud Workflows runner for exactly the syntax workflows/*.yaml use, with Workflows'
// semantics from the reference: steps run in order unless `next` jumps (to a step at the same or
// an enclosing level; `end` finishes the subworkflow); `switch` takes the first true condition;
// `try` retries while the predicate says so, waiting initial_delay * multiplier^n seconds (capped at
// max_delay), then hands the error map to `except` in a scope of its own; an uncaught error fails
// the execution with that map; variables are passed by value; http.get/post raise HttpError for a
// status >= 400 and answer {code, headers, body} (JSON bodies decoded) otherwise.
//
// A file is checked twice before it runs: against Google's syntax (workflow-syntax.ts, what a
// deploy refuses) and against this runner's subset (anything else: UnsupportedSyntaxError naming
// the step). `auth` is checked for its shape and otherwise ignored: locally no OIDC token is sent.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isWorkflowMap,
  UnsupportedSyntaxError,
  type WorkflowMap,
  WorkflowRaise,
  type WorkflowValue,
  workflowError,
} from './workflow-errors.js';
import {
  type EvaluationContext,
  type Expr,
  evaluate,
  expressionSource,
  indexValue,
  isExpression,
  parseExpression,
  qualifiedName,
  references,
  typeName,
} from './workflow-expression.js';
import { IMPLEMENTED_FUNCTIONS, KNOWN_CONSTANTS, type StdlibContext } from './workflow-stdlib.js';
import {
  type CheckedWorkflow,
  checkWorkflow,
  type Subworkflow,
  type WorkflowStep,
} from './workflow-syntax.js';

export interface StepLogEntry {
  /** ISO time of the entry. */
  time: string;
  /** `subworkflow › step`, prefixed by the calling step for subworkflow steps. */
  step: string;
  kind: WorkflowStep['kind'] | 'log';
  message: string;
  severity?: string;
  /** sys.log's payload. */
  payload?: WorkflowValue;
}

export interface RunOptions {
  /** User-defined environment variables (sys.get_env); built-in GOOGLE_CLOUD_* ones are added. */
  env?: Readonly<Record<string, string>>;
  fetch?: typeof fetch;
  /** The clock, in ms (sys.now). */
  nowMs?: () => number;
  /** How retries wait (tests pass a recorder). */
  sleepMs?: (ms: number) => Promise<void>;
  onStep?: (entry: StepLogEntry) => void;
  executionId?: string;
  /** Workflows stops an execution after 100 000 steps. */
  maxSteps?: number;
}

export type ExecutionResult =
  | { state: 'SUCCEEDED'; executionId: string; result: WorkflowValue; steps: number; durationMs: number }
  | { state: 'FAILED'; executionId: string; error: WorkflowValue; steps: number; durationMs: number };

const SUPPORTED_HTTP_ARGS = new Set(['url', 'headers', 'query', 'auth', 'timeout', 'body']);
const SUPPORTED_PREDICATES = new Set(['http.default_retry_predicate']);
const DEFAULT_RETRY_CODES = new Set([429, 502, 503, 504]);
const DEFAULT_HTTP_TIMEOUT_S = 300;
const MAX_STEPS = 100_000;

/** A checked workflow, ready to run locally. */
export class LocalWorkflow {
  readonly #workflow: CheckedWorkflow;
  readonly #expressions = new Map<string, Expr>();

  private constructor(workflow: CheckedWorkflow) {
    this.#workflow = workflow;
    for (const sub of workflow.subworkflows.values()) this.#checkSupported(sub);
  }

  /** Checks the text against Workflows syntax and this runner's subset; throws naming the step. */
  static fromText(text: string, file = 'workflow.yaml'): LocalWorkflow {
    return new LocalWorkflow(checkWorkflow(text, file));
  }

  static async fromFile(path: string): Promise<LocalWorkflow> {
    return LocalWorkflow.fromText(await readFile(path, 'utf8'), relative(process.cwd(), path) || path);
  }

  get file(): string {
    return this.#workflow.file;
  }

  /** Runs main with `argument` (the execution argument), like one Workflows execution. */
  async run(argument: WorkflowValue = null, options: RunOptions = {}): Promise<ExecutionResult> {
    const execution = new Execution(this.#workflow, this.#expressions, options);
    const started = Date.now();
    try {
      const result = await execution.callSubworkflow('main', argument, '');
      return {
        state: 'SUCCEEDED',
        executionId: execution.executionId,
        result,
        steps: execution.steps,
        durationMs: Date.now() - started,
      };
    } catch (error) {
      if (!(error instanceof WorkflowRaise)) throw error;
      return {
        state: 'FAILED',
        executionId: execution.executionId,
        error: error.value,
        steps: execution.steps,
        durationMs: Date.now() - started,
      };
    }
  }

  #checkSupported(sub: Subworkflow): void {
    const unsupported = (step: string, construct: string): never => {
      throw new UnsupportedSyntaxError(this.#workflow.file, step, construct);
    };
    for (const param of sub.params)
      if (param.default !== undefined) unsupported(sub.name, `a parameter default (${param.name})`);
    const expressions = (value: unknown, step: string): void => {
      if (isExpression(value)) {
        const expr = parseExpression(expressionSource(value));
        this.#expressions.set(value, expr);
        for (const name of references(expr).functions)
          if (!(name in IMPLEMENTED_FUNCTIONS)) unsupported(step, `the function ${name}()`);
        const constant = findConstant(expr);
        if (constant !== undefined) unsupported(step, `${constant} outside a retry predicate`);
      } else if (Array.isArray(value)) for (const v of value) expressions(v, step);
      else if (isWorkflowMap(value)) for (const v of Object.values(value)) expressions(v, step);
    };
    const visit = (steps: readonly WorkflowStep[]): void => {
      for (const step of steps) {
        const { body, trail } = step;
        switch (step.kind) {
          case 'assign':
            for (const item of body.assign as WorkflowMap[]) {
              const [target, value] = Object.entries(item)[0]!;
              this.#expressions.set(target, parseExpression(target));
              expressions(value, trail);
            }
            break;
          case 'call': {
            const target = body.call as string;
            if (target === 'http.get' || target === 'http.post') {
              for (const key of Object.keys(body.args as WorkflowMap))
                if (!SUPPORTED_HTTP_ARGS.has(key)) unsupported(trail, `the ${target} argument ${key}`);
            } else if (target !== 'sys.log' && !this.#workflow.subworkflows.has(target)) {
              unsupported(trail, `call: ${target}`);
            }
            expressions(body.args, trail);
            break;
          }
          case 'switch':
            (body.switch as WorkflowMap[]).forEach((condition) => {
              for (const key of Object.keys(condition))
                if (!['condition', 'next', 'steps'].includes(key))
                  unsupported(trail, `${key} inside a switch condition (use next or steps)`);
              expressions(condition.condition, trail);
            });
            break;
          case 'return':
          case 'raise':
            expressions(body[step.kind], trail);
            break;
          case 'try': {
            const retry = body.retry;
            if (retry !== undefined) {
              if (!isWorkflowMap(retry)) unsupported(trail, `retry: ${String(retry)} (a policy by name)`);
              const predicate = qualifiedName(
                parseExpression(expressionSource((retry as WorkflowMap).predicate as string)),
              );
              if (predicate === undefined || !SUPPORTED_PREDICATES.has(predicate))
                unsupported(trail, `the retry predicate ${String((retry as WorkflowMap).predicate)}`);
              expressions((retry as WorkflowMap).max_retries, trail);
              expressions((retry as WorkflowMap).backoff, trail);
            }
            if (body.except !== undefined && (body.except as WorkflowMap).as === undefined)
              unsupported(trail, 'except without as');
            break;
          }
          default:
            unsupported(trail, `a ${step.kind} step`);
        }
        if (body.next !== undefined) expressions(body.next, trail);
        for (const block of step.blocks.values()) visit(block);
      }
    };
    visit(sub.steps);
  }
}

/** The first policy or predicate (http.default_retry, ...) an expression names, if any. */
function findConstant(expr: Expr): string | undefined {
  const name = expr.type === 'member' ? qualifiedName(expr) : undefined;
  if (name !== undefined && KNOWN_CONSTANTS.has(name)) return name;
  const children: Expr[] =
    expr.type === 'member'
      ? [expr.object]
      : expr.type === 'index'
        ? [expr.object, expr.index]
        : expr.type === 'call'
          ? expr.args
          : expr.type === 'unary'
            ? [expr.operand]
            : expr.type === 'binary'
              ? [expr.left, expr.right]
              : expr.type === 'list'
                ? expr.items
                : expr.type === 'map'
                  ? expr.entries.map((e) => e.value)
                  : [];
  for (const child of children) {
    const found = findConstant(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

type Flow =
  | { kind: 'next' }
  | { kind: 'jump'; target: string }
  | { kind: 'return'; value: WorkflowValue }
  | { kind: 'end' };

class Scope {
  readonly #vars = new Map<string, WorkflowValue>();

  constructor(readonly parent?: Scope) {}

  get(name: string): WorkflowValue | undefined {
    return this.#vars.has(name) ? this.#vars.get(name) : this.parent?.get(name);
  }

  /** Assigns where the variable lives, or creates it here. */
  set(name: string, value: WorkflowValue): void {
    for (let scope: Scope | undefined = this; scope !== undefined; scope = scope.parent) {
      if (scope.#vars.has(name)) {
        scope.#vars.set(name, value);
        return;
      }
    }
    this.#vars.set(name, value);
  }

  declare(name: string, value: WorkflowValue): void {
    this.#vars.set(name, value);
  }
}

class Execution {
  readonly executionId: string;
  steps = 0;
  readonly #workflow: CheckedWorkflow;
  readonly #expressions: Map<string, Expr>;
  readonly #options: RunOptions;
  readonly #stdlib: StdlibContext;
  readonly #fetch: typeof fetch;

  constructor(workflow: CheckedWorkflow, expressions: Map<string, Expr>, options: RunOptions) {
    this.#workflow = workflow;
    this.#expressions = expressions;
    this.#options = options;
    this.executionId = options.executionId ?? randomUUID();
    this.#fetch = options.fetch ?? fetch;
    const nowMs = options.nowMs ?? Date.now;
    this.#stdlib = {
      env: {
        GOOGLE_CLOUD_LOCATION: 'local',
        GOOGLE_CLOUD_PROJECT_ID: 'local',
        GOOGLE_CLOUD_WORKFLOW_ID: workflow.file,
        GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID: this.executionId,
        ...options.env,
      },
      nowSeconds: () => nowMs() / 1000,
    };
  }

  async callSubworkflow(name: string, argument: WorkflowValue, caller: string): Promise<WorkflowValue> {
    const sub = this.#workflow.subworkflows.get(name)!;
    const scope = new Scope();
    if (name === 'main') {
      if (sub.params[0] !== undefined) scope.declare(sub.params[0].name, argument);
    } else {
      const args = isWorkflowMap(argument) ? argument : {};
      for (const key of Object.keys(args))
        if (!sub.params.some((p) => p.name === key))
          throw workflowError('TypeError', `${name}: unexpected argument ${key}`);
      for (const param of sub.params) {
        if (!Object.hasOwn(args, param.name))
          throw workflowError('TypeError', `${name}: missing argument ${param.name}`);
        scope.declare(param.name, args[param.name]!);
      }
    }
    const flow = await this.#runList(sub.steps, scope, caller);
    if (flow.kind === 'jump') throw new Error(`${name}: jump to unknown step ${flow.target}`);
    return flow.kind === 'return' ? flow.value : null;
  }

  async #runList(steps: readonly WorkflowStep[], scope: Scope, caller: string): Promise<Flow> {
    let i = 0;
    while (i < steps.length) {
      const flow = await this.#runStep(steps[i]!, scope, caller);
      if (flow.kind === 'next') {
        i++;
      } else if (flow.kind === 'jump') {
        const target = steps.findIndex((s) => s.name === flow.target);
        if (target < 0) return flow;
        i = target;
      } else {
        return flow;
      }
    }
    return { kind: 'next' };
  }

  async #runStep(step: WorkflowStep, scope: Scope, caller: string): Promise<Flow> {
    const trail = caller === '' ? step.trail : `${caller} › ${step.trail}`;
    if (++this.steps > (this.#options.maxSteps ?? MAX_STEPS))
      throw workflowError('ResourceLimitError', `more than ${this.#options.maxSteps ?? MAX_STEPS} steps`);
    const { body } = step;
    const log = (message: string) => this.#log({ step: trail, kind: step.kind, message });
    const after = (): Flow => jumpTo(body.next);
    switch (step.kind) {
      case 'assign': {
        const names: string[] = [];
        for (const item of body.assign as WorkflowMap[]) {
          const [target, value] = Object.entries(item)[0]!;
          this.#assign(target, this.#value(value, scope), scope);
          names.push(target);
        }
        log(`assign ${names.join(', ')}`);
        return after();
      }
      case 'call': {
        const target = body.call as string;
        const value = await this.#call(target, body.args, scope, trail);
        if (typeof body.result === 'string') scope.set(body.result, value);
        return after();
      }
      case 'switch': {
        const conditions = body.switch as WorkflowMap[];
        for (const [i, condition] of conditions.entries()) {
          const holds = this.#value(condition.condition, scope);
          if (typeof holds !== 'boolean')
            throw workflowError(
              'TypeError',
              `switch condition ${i + 1} is a ${typeName(holds)}, not a boolean`,
            );
          if (!holds) continue;
          log(
            `condition ${i + 1} of ${conditions.length} true${condition.next === undefined ? '' : ` → next ${String(condition.next)}`}`,
          );
          const block = step.blocks.get(`switch.${i}`);
          if (block !== undefined) {
            const flow = await this.#runList(block, scope, caller);
            if (flow.kind !== 'next') return flow;
          }
          return condition.next === undefined ? after() : jumpTo(condition.next);
        }
        log(`no condition true${body.next === undefined ? '' : ` → next ${String(body.next)}`}`);
        return after();
      }
      case 'return': {
        const value = this.#value(body.return, scope);
        log('return');
        return { kind: 'return', value };
      }
      case 'raise': {
        const value = this.#value(body.raise, scope);
        log(`raise ${JSON.stringify(value)}`);
        throw new WorkflowRaise(value);
      }
      case 'try':
        return this.#try(step, scope, caller, trail);
      default:
        throw new Error(`${trail}: ${step.kind} steps are not supported`);
    }
  }

  async #try(step: WorkflowStep, scope: Scope, caller: string, trail: string): Promise<Flow> {
    const { body } = step;
    const retry = isWorkflowMap(body.retry) ? body.retry : undefined;
    const policy =
      retry === undefined
        ? undefined
        : {
            maxRetries: this.#number(retry.max_retries, scope, 'max_retries'),
            initial: this.#number((retry.backoff as WorkflowMap).initial_delay, scope, 'initial_delay'),
            max: this.#number((retry.backoff as WorkflowMap).max_delay, scope, 'max_delay'),
            multiplier: this.#number((retry.backoff as WorkflowMap).multiplier, scope, 'multiplier'),
          };
    for (let attempt = 0; ; attempt++) {
      try {
        const flow = await this.#runList(step.blocks.get('try')!, scope, caller);
        return flow.kind === 'next' ? jumpTo(body.next) : flow;
      } catch (error) {
        if (!(error instanceof WorkflowRaise)) throw error;
        if (policy !== undefined && attempt < policy.maxRetries && defaultRetryPredicate(error.value)) {
          const delayS = Math.min(policy.initial * policy.multiplier ** attempt, policy.max);
          this.#log({
            step: trail,
            kind: 'try',
            message: `${error.message}: retry ${attempt + 1} of ${policy.maxRetries} in ${delayS} s`,
          });
          await (this.#options.sleepMs ?? ((ms: number) => sleep(ms)))(delayS * 1000);
          continue;
        }
        const except = body.except as WorkflowMap | undefined;
        if (except === undefined) throw error;
        this.#log({ step: trail, kind: 'try', message: `except ${String(except.as)}: ${error.message}` });
        const local = new Scope(scope);
        local.declare(except.as as string, structuredClone(error.value));
        const flow = await this.#runList(step.blocks.get('except')!, local, caller);
        return flow.kind === 'next' ? jumpTo(body.next) : flow;
      }
    }
  }

  async #call(target: string, rawArgs: unknown, scope: Scope, trail: string): Promise<WorkflowValue> {
    const args = rawArgs === undefined ? {} : this.#value(rawArgs, scope);
    if (target === 'http.get' || target === 'http.post') return this.#http(target, args, trail);
    if (target === 'sys.log') {
      this.#sysLog(args, trail);
      return null;
    }
    this.#log({ step: trail, kind: 'call', message: `call ${target}` });
    return this.callSubworkflow(target, args, trail);
  }

  #sysLog(args: WorkflowValue, trail: string): void {
    if (!isWorkflowMap(args)) throw workflowError('TypeError', 'sys.log: args must be a map');
    const payloads = (['data', 'text', 'json'] as const).filter(
      (k) => args[k] !== undefined && args[k] !== null,
    );
    if (payloads.length !== 1)
      throw workflowError('TypeError', 'sys.log: exactly one of data, text and json must be given');
    const kind = payloads[0]!;
    const payload = args[kind]!;
    if (kind === 'json' && !isWorkflowMap(payload))
      throw workflowError('TypeError', 'sys.log: json must be a map');
    const severity = args.severity ?? 'DEFAULT';
    if (typeof severity !== 'string') throw workflowError('TypeError', 'sys.log: severity must be a string');
    this.#log({
      step: trail,
      kind: 'log',
      severity,
      message: typeof payload === 'string' ? payload : JSON.stringify(payload),
      payload,
    });
  }

  async #http(target: 'http.get' | 'http.post', args: WorkflowValue, trail: string): Promise<WorkflowValue> {
    if (!isWorkflowMap(args) || typeof args.url !== 'string')
      throw workflowError('TypeError', `${target}: url must be a string`);
    const url = new URL(args.url);
    if (args.query !== undefined && args.query !== null) {
      if (!isWorkflowMap(args.query)) throw workflowError('TypeError', `${target}: query must be a map`);
      for (const [key, value] of Object.entries(args.query))
        for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
    const headers: Record<string, string> = {};
    if (args.headers !== undefined && args.headers !== null) {
      if (!isWorkflowMap(args.headers)) throw workflowError('TypeError', `${target}: headers must be a map`);
      for (const [key, value] of Object.entries(args.headers)) {
        if (typeof value !== 'string')
          throw workflowError('TypeError', `${target}: header ${key} must be a string`);
        headers[key.toLowerCase()] = value;
      }
    }
    checkAuth(target, args.auth);
    const timeoutS = args.timeout ?? DEFAULT_HTTP_TIMEOUT_S;
    if (typeof timeoutS !== 'number' || timeoutS <= 0)
      throw workflowError('TypeError', `${target}: timeout must be a positive number`);
    let body: string | undefined;
    if (target === 'http.post' && args.body !== undefined) {
      if (headers['content-type'] !== undefined && typeof args.body === 'string') body = args.body;
      else {
        body = JSON.stringify(args.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
    }
    const method = target === 'http.get' ? 'GET' : 'POST';
    this.#log({ step: trail, kind: 'call', message: `${target} ${url.href}` });
    const started = Date.now();
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutS * 1000),
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw workflowError('TimeoutError', `${method} ${url.href}: no answer within ${timeoutS} s`);
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new WorkflowRaise({
        message: `${method} ${url.href}: ${cause?.code ?? (error as Error).message}`,
        tags:
          cause?.code === 'ECONNREFUSED' ? ['ConnectionFailedError', 'ConnectionError'] : ['ConnectionError'],
      });
    }
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    let decoded: WorkflowValue = text;
    if (/[/+]json\b/.test(contentType)) {
      try {
        decoded = JSON.parse(text) as WorkflowValue;
      } catch {
        decoded = text;
      }
    }
    const answer = { code: response.status, headers: Object.fromEntries(response.headers), body: decoded };
    this.#log({
      step: trail,
      kind: 'call',
      message: `${target} → ${response.status} in ${Date.now() - started} ms`,
    });
    if (response.status >= 400)
      throw workflowError('HttpError', `HTTP server responded with error code ${response.status}`, answer);
    return answer;
  }

  #assign(target: string, value: WorkflowValue, scope: Scope): void {
    const expr = this.#expressions.get(target) ?? parseExpression(target);
    if (expr.type === 'variable') {
      scope.set(expr.name, value);
      return;
    }
    // a.b[c].d: read the container, then set its key or element.
    const container = expr.type === 'member' || expr.type === 'index' ? expr.object : undefined;
    if (container === undefined) throw workflowError('TypeError', `cannot assign to ${target}`);
    const parent = evaluate(container, this.#context(scope));
    const key: WorkflowValue =
      expr.type === 'member' ? expr.name : evaluate((expr as { index: Expr }).index, this.#context(scope));
    if (isWorkflowMap(parent) && typeof key === 'string') parent[key] = value;
    else if (Array.isArray(parent) && typeof key === 'number') {
      indexValue(parent, key);
      parent[key] = value;
    } else throw workflowError('TypeError', `cannot assign to ${target}: not a map key or list element`);
  }

  #value(value: unknown, scope: Scope): WorkflowValue {
    if (typeof value === 'string') {
      if (!isExpression(value)) return value;
      const expr = this.#expressions.get(value) ?? parseExpression(expressionSource(value));
      return structuredClone(evaluate(expr, this.#context(scope)));
    }
    if (Array.isArray(value)) return value.map((v) => this.#value(v, scope));
    if (isWorkflowMap(value)) {
      const map: WorkflowMap = {};
      for (const [k, v] of Object.entries(value)) map[k] = this.#value(v, scope);
      return map;
    }
    return value === undefined ? null : (value as WorkflowValue);
  }

  #number(value: unknown, scope: Scope, what: string): number {
    const n = this.#value(value, scope);
    if (typeof n !== 'number') throw workflowError('TypeError', `${what} must be a number`);
    return n;
  }

  #context(scope: Scope): EvaluationContext {
    return {
      variable: (name) => scope.get(name),
      call: (name, args) => IMPLEMENTED_FUNCTIONS[name]!(args, this.#stdlib),
    };
  }

  #log(entry: Omit<StepLogEntry, 'time'>): void {
    this.#options.onStep?.({ time: new Date().toISOString(), ...entry });
  }
}

function jumpTo(next: unknown): Flow {
  if (next === undefined) return { kind: 'next' };
  if (next === 'end') return { kind: 'end' };
  return { kind: 'jump', target: next as string };
}

/**
 * http.default_retry_predicate: true for HTTP 429, 502, 503 and 504 and for any ConnectionError or
 * TimeoutError (reference: stdlib/http/default_retry). A 500 is not retried: our functions answer
 * 503 when a retry may help and 500 when a person must look.
 */
export function defaultRetryPredicate(error: WorkflowValue): boolean {
  if (!isWorkflowMap(error) || !Array.isArray(error.tags)) return false;
  if (error.tags.includes('ConnectionError') || error.tags.includes('TimeoutError')) return true;
  return (
    error.tags.includes('HttpError') && typeof error.code === 'number' && DEFAULT_RETRY_CODES.has(error.code)
  );
}

/** auth: {type: OIDC, audience?} or {type: OAuth2, scopes?}; checked, then ignored locally. */
function checkAuth(target: string, auth: WorkflowValue | undefined): void {
  if (auth === undefined || auth === null) return;
  if (!isWorkflowMap(auth) || (auth.type !== 'OIDC' && auth.type !== 'OAuth2'))
    throw workflowError('TypeError', `${target}: auth must be a map with type OIDC or OAuth2`);
  if (auth.type === 'OIDC' && auth.audience !== undefined && typeof auth.audience !== 'string')
    throw workflowError('TypeError', `${target}: auth audience must be a string`);
}
