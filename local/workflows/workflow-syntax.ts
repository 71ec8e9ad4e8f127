// The strict structural check of a Cloud Workflows file, written from Google's syntax reference
// (cloud.google.com/workflows/docs/reference/syntax: steps, variables, calls, conditions, jumps,
// iteration, parallel-steps, catching-errors, retrying, raising-errors, subworkflows, expressions).
// It refuses what a deploy refuses, and a little more: unknown keys, keys that do not go together,
// jumps to steps that do not exist or are out of reach, unknown standard-library names, variables
// that are never assigned, and strings that hold `${` without being one whole expression (Workflows
// would keep them as literal text, which is never what was meant).
//
// The result is the workflow as a tree of named steps, the form the local runner executes.

import { parseDocument } from 'yaml';
import { type SyntaxProblem, WorkflowSyntaxError } from './workflow-errors.js';
import {
  type Expr,
  ExpressionSyntaxError,
  expressionSource,
  isExpression,
  parseExpression,
  qualifiedName,
  subexpressions,
} from './workflow-expression.js';
import { HTTP_CALLS, KNOWN_CONSTANTS, KNOWN_FUNCTIONS } from './workflow-stdlib.js';

export type StepKind =
  | 'assign'
  | 'call'
  | 'switch'
  | 'return'
  | 'raise'
  | 'steps'
  | 'try'
  | 'for'
  | 'parallel'
  | 'next';

export interface WorkflowStep {
  name: string;
  /** `subworkflow › step › nested step`: how logs and errors name it. */
  trail: string;
  kind: StepKind;
  body: Record<string, unknown>;
  /**
   * Nested step lists: `steps` (a steps step), `try` (the try body: its steps, or the one step it
   * is), `except`, `switch.N` (condition N's steps), `for`, `branch.NAME`.
   */
  blocks: ReadonlyMap<string, readonly WorkflowStep[]>;
}

export interface WorkflowParam {
  name: string;
  default?: unknown;
}

export interface Subworkflow {
  name: string;
  params: readonly WorkflowParam[];
  steps: readonly WorkflowStep[];
}

export interface CheckedWorkflow {
  file: string;
  subworkflows: ReadonlyMap<string, Subworkflow>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRIMARY_KEYS = [
  'assign',
  'call',
  'switch',
  'return',
  'raise',
  'steps',
  'try',
  'for',
  'parallel',
] as const;
const COMPANIONS: Record<StepKind, readonly string[]> = {
  assign: ['next'],
  call: ['args', 'result', 'next'],
  switch: ['next'],
  return: [],
  raise: [],
  steps: ['next'],
  try: ['retry', 'except', 'next'],
  for: ['next'],
  parallel: ['next'],
  next: [],
};
const SWITCH_CONDITION_KEYS = [
  'condition',
  'next',
  'steps',
  'assign',
  'call',
  'args',
  'result',
  'return',
  'raise',
];
const MAX_ASSIGNMENTS = 50;
const MAX_CONDITIONS = 50;
const HTTP_ARGS = ['url', 'headers', 'query', 'auth', 'timeout', 'private_service_name', 'ca_certificate'];
const HTTP_BODY_CALLS = new Set(['http.post', 'http.put', 'http.patch', 'http.request']);
const AUTH_TYPES = ['OIDC', 'OAuth2'];
const LOG_SEVERITIES = [
  'DEFAULT',
  'DEBUG',
  'INFO',
  'NOTICE',
  'WARNING',
  'ERROR',
  'CRITICAL',
  'ALERT',
  'EMERGENCY',
];
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const MAX_HTTP_TIMEOUT_S = 1800;
const JUMP_KEYWORDS = new Set(['end', 'break', 'continue']);

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks a workflow file's text; throws WorkflowSyntaxError listing every problem. */
export function checkWorkflow(text: string, file = 'workflow.yaml'): CheckedWorkflow {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new WorkflowSyntaxError(
      file,
      document.errors.map((e) => ({ path: '(yaml)', message: e.message })),
    );
  }
  return checkWorkflowDocument(document.toJS() as unknown, file);
}

/** Checks an already parsed document (YAML or the JSON form Workflows also accepts). */
export function checkWorkflowDocument(document: unknown, file = 'workflow.yaml'): CheckedWorkflow {
  const checker = new Checker(file);
  const subworkflows = checker.document(document);
  if (checker.problems.length > 0) throw new WorkflowSyntaxError(file, checker.problems);
  return { file, subworkflows };
}

interface Frame {
  subworkflow: string;
  /** Names of steps a `next` here may jump to. */
  reachable: ReadonlySet<string>;
  inFor: boolean;
}

interface SubworkflowScope {
  stepNames: Set<string>;
  defined: Set<string>;
  reads: { name: string; path: string; step: string }[];
}

class Checker {
  readonly problems: SyntaxProblem[] = [];
  #subworkflowNames = new Set<string>();
  #scope: SubworkflowScope = { stepNames: new Set(), defined: new Set(), reads: [] };

  constructor(readonly file: string) {}

  problem(path: string, message: string, step?: string): void {
    this.problems.push(step === undefined ? { path, message } : { path, step, message });
  }

  document(document: unknown): Map<string, Subworkflow> {
    const result = new Map<string, Subworkflow>();
    if (Array.isArray(document)) {
      this.#subworkflowNames = new Set(['main']);
      result.set('main', this.subworkflow('main', { steps: document }, 'main'));
      return result;
    }
    if (!isMap(document)) {
      this.problem('(document)', 'a workflow is a list of steps, or a map of subworkflows with main');
      return result;
    }
    this.#subworkflowNames = new Set(Object.keys(document));
    if (!Object.hasOwn(document, 'main')) this.problem('(document)', 'a map of subworkflows needs main');
    for (const [name, definition] of Object.entries(document)) {
      if (!IDENTIFIER.test(name) || KNOWN_FUNCTIONS.has(name))
        this.problem(
          name,
          `"${name}" is not a subworkflow name (letters, digits, underscores; not a standard-library name)`,
        );
      result.set(name, this.subworkflow(name, definition, name));
    }
    return result;
  }

  subworkflow(name: string, definition: unknown, path: string): Subworkflow {
    this.#scope = { stepNames: new Set(), defined: new Set(), reads: [] };
    const params: WorkflowParam[] = [];
    if (!isMap(definition)) {
      this.problem(path, 'a subworkflow is a map with steps (and params)');
      return { name, params, steps: [] };
    }
    this.knownKeys(definition, ['params', 'steps'], path, undefined, 'subworkflow');
    if (definition.params !== undefined) {
      if (!Array.isArray(definition.params)) this.problem(`${path}.params`, 'params is a list');
      else
        definition.params.forEach((p, i) => {
          const at = `${path}.params[${i}]`;
          if (typeof p === 'string' && IDENTIFIER.test(p)) params.push({ name: p });
          else if (isMap(p) && Object.keys(p).length === 1 && IDENTIFIER.test(Object.keys(p)[0]!)) {
            const [param, value] = Object.entries(p)[0]!;
            params.push({ name: param, default: value });
          } else this.problem(at, 'a parameter is a name, or a one-key map of a name to its default');
        });
      if (name === 'main' && params.length > 1)
        this.problem(`${path}.params`, 'main takes at most one parameter (the execution argument)');
    }
    for (const p of params) this.#scope.defined.add(p.name);
    if (definition.steps === undefined) this.problem(path, 'a subworkflow needs steps');
    const steps =
      definition.steps === undefined
        ? []
        : this.stepList(definition.steps, `${path}.steps`, [name], {
            subworkflow: name,
            reachable: new Set(),
            inFor: false,
          });
    for (const read of this.#scope.reads) {
      if (!this.#scope.defined.has(read.name))
        this.problem(
          read.path,
          `symbol '${read.name}' is neither a variable nor a sub-workflow name`,
          read.step,
        );
    }
    return { name, params, steps };
  }

  stepList(list: unknown, path: string, trail: string[], frame: Frame): WorkflowStep[] {
    if (!Array.isArray(list) || list.length === 0) {
      this.problem(path, 'steps is a non-empty list of one-key maps (step name: step)', trail.join(' › '));
      return [];
    }
    const names = list.flatMap((item) =>
      isMap(item) && Object.keys(item).length === 1 ? Object.keys(item) : [],
    );
    const inner: Frame = { ...frame, reachable: new Set([...frame.reachable, ...names]) };
    const steps: WorkflowStep[] = [];
    list.forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (!isMap(item) || Object.keys(item).length !== 1) {
        this.problem(at, 'each step is a map with exactly one key, the step name', trail.join(' › '));
        return;
      }
      const [name, body] = Object.entries(item)[0]!;
      const stepTrail = [...trail, name];
      if (JUMP_KEYWORDS.has(name)) this.problem(at, `"${name}" is reserved for next`, stepTrail.join(' › '));
      if (this.#scope.stepNames.has(name))
        this.problem(
          at,
          `step name "${name}" is used twice in subworkflow ${frame.subworkflow}`,
          stepTrail.join(' › '),
        );
      this.#scope.stepNames.add(name);
      const step = this.step(name, body, `${at}.${name}`, stepTrail, inner);
      if (step !== undefined) steps.push(step);
    });
    return steps;
  }

  step(name: string, body: unknown, path: string, trail: string[], frame: Frame): WorkflowStep | undefined {
    const where = trail.join(' › ');
    if (!isMap(body)) {
      this.problem(
        path,
        'a step is a map (assign, call, switch, steps, try, for, parallel, return, raise or next)',
        where,
      );
      return undefined;
    }
    const primaries = PRIMARY_KEYS.filter((k) => Object.hasOwn(body, k));
    if (primaries.length > 1) {
      this.problem(
        path,
        `a step is one of assign, call, switch, ...; this one has ${primaries.join(' and ')}`,
        where,
      );
      return undefined;
    }
    const kind: StepKind = primaries[0] ?? 'next';
    if (kind === 'next' && body.next === undefined) {
      this.problem(
        path,
        'an empty step: give it assign, call, switch, steps, try, for, parallel, return, raise or next',
        where,
      );
      return undefined;
    }
    for (const key of Object.keys(body)) {
      if (key === kind) continue;
      if (!COMPANIONS[kind].includes(key)) {
        const known =
          (PRIMARY_KEYS as readonly string[]).includes(key) ||
          ['args', 'result', 'retry', 'except', 'next'].includes(key);
        this.problem(
          `${path}.${key}`,
          known
            ? `${key} does not go with ${kind === 'next' ? 'a jump step' : kind}`
            : `unknown key "${key}"`,
          where,
        );
      }
    }
    const blocks = new Map<string, WorkflowStep[]>();
    if (body.next !== undefined) this.jump(body.next, `${path}.next`, where, frame);
    switch (kind) {
      case 'assign':
        this.assign(body.assign, `${path}.assign`, where);
        break;
      case 'call':
        this.call(body, path, where);
        break;
      case 'switch':
        this.switchStep(body.switch, `${path}.switch`, trail, frame, blocks);
        break;
      case 'return':
      case 'raise':
        this.value(body[kind], `${path}.${kind}`, where);
        break;
      case 'steps':
        blocks.set('steps', this.stepList(body.steps, `${path}.steps`, trail, frame));
        break;
      case 'try':
        this.tryStep(name, body, path, trail, frame, blocks);
        break;
      case 'for':
        this.forStep(body.for, `${path}.for`, trail, frame, blocks);
        break;
      case 'parallel':
        this.parallelStep(body.parallel, `${path}.parallel`, trail, frame, blocks);
        break;
      case 'next':
        break;
    }
    return { name, trail: where, kind, body, blocks };
  }

  jump(target: unknown, path: string, where: string, frame: Frame): void {
    if (typeof target !== 'string') {
      this.problem(path, 'next names a step (or end, break, continue)', where);
      return;
    }
    if (target === 'end') return;
    if (target === 'break' || target === 'continue') {
      if (!frame.inFor) this.problem(path, `next: ${target} is only allowed inside a for loop`, where);
      return;
    }
    if (!frame.reachable.has(target))
      this.problem(
        path,
        `next: ${target} is not a step at this level or an enclosing one of ${frame.subworkflow}`,
        where,
      );
  }

  assign(list: unknown, path: string, where: string): void {
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ASSIGNMENTS) {
      this.problem(path, `assign is a list of 1 to ${MAX_ASSIGNMENTS} one-key maps (variable: value)`, where);
      return;
    }
    list.forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (!isMap(item) || Object.keys(item).length !== 1) {
        this.problem(at, 'each assignment is a one-key map (variable: value)', where);
        return;
      }
      const [target, value] = Object.entries(item)[0]!;
      this.assignmentTarget(target, at, where);
      this.value(value, `${at}.${target}`, where);
    });
  }

  /** `name`, `name.key`, `name["key"]`, `name[index]`, chained. */
  assignmentTarget(target: string, path: string, where: string): void {
    let expr: Expr;
    try {
      expr = parseExpression(target);
    } catch {
      this.problem(path, `"${target}" is not a variable, map key or list element to assign`, where);
      return;
    }
    let root: Expr = expr;
    while (root.type === 'member' || root.type === 'index') {
      if (root.type === 'index') this.reads(root.index, path, where);
      root = root.object;
    }
    if (root.type !== 'variable' || KNOWN_FUNCTIONS.has(root.name)) {
      this.problem(path, `"${target}" is not a variable, map key or list element to assign`, where);
      return;
    }
    if (expr === root) this.#scope.defined.add(root.name);
    else this.#scope.reads.push({ name: root.name, path, step: where });
  }

  call(body: Json, path: string, where: string): void {
    const target = body.call;
    const args = body.args;
    if (body.result !== undefined && (typeof body.result !== 'string' || !IDENTIFIER.test(body.result)))
      this.problem(`${path}.result`, 'result names a variable', where);
    else if (typeof body.result === 'string') this.#scope.defined.add(body.result);
    if (typeof target !== 'string') {
      this.problem(`${path}.call`, 'call names a function or subworkflow', where);
      return;
    }
    if (args !== undefined && !isMap(args) && !Array.isArray(args))
      this.problem(`${path}.args`, 'args is a map of argument names to values', where);
    if (isMap(args))
      for (const [key, value] of Object.entries(args)) this.value(value, `${path}.args.${key}`, where);
    if (HTTP_CALLS.has(target)) this.httpArgs(target, args, `${path}.args`, where);
    else if (target === 'sys.log') this.logArgs(args, `${path}.args`, where);
    else if (this.#subworkflowNames.has(target)) this.subworkflowArgs(args, `${path}.args`, where);
    else if (!KNOWN_FUNCTIONS.has(target) && !target.startsWith('googleapis.'))
      this.problem(
        `${path}.call`,
        `${target} is neither a standard-library function, a connector nor a subworkflow`,
        where,
      );
  }

  httpArgs(target: string, args: unknown, path: string, where: string): void {
    if (!isMap(args) || args.url === undefined) {
      this.problem(path, `${target} needs args with url`, where);
      return;
    }
    const allowed = [
      ...HTTP_ARGS,
      ...(HTTP_BODY_CALLS.has(target) ? ['body'] : []),
      ...(target === 'http.request' ? ['method'] : []),
    ];
    this.knownKeys(args, allowed, path, where, target);
    if (target === 'http.request' && args.method === undefined)
      this.problem(path, 'http.request needs method', where);
    if (typeof args.method === 'string' && !isExpression(args.method) && !HTTP_METHODS.includes(args.method))
      this.problem(`${path}.method`, `method is one of ${HTTP_METHODS.join(', ')}`, where);
    if (typeof args.url === 'string' && !isExpression(args.url) && !/^https?:\/\//.test(args.url))
      this.problem(`${path}.url`, 'url is an http(s) URL', where);
    if (args.timeout !== undefined && !isExpression(args.timeout)) {
      if (typeof args.timeout !== 'number' || args.timeout <= 0 || args.timeout > MAX_HTTP_TIMEOUT_S)
        this.problem(
          `${path}.timeout`,
          `timeout is a number of seconds, at most ${MAX_HTTP_TIMEOUT_S}`,
          where,
        );
    }
    if (args.auth !== undefined) {
      const auth = args.auth;
      if (isExpression(auth)) {
        // checked when the call runs
      } else if (!isMap(auth)) this.problem(`${path}.auth`, 'auth is a map with type OIDC or OAuth2', where);
      else {
        this.knownKeys(auth, ['type', 'audience', 'scopes', 'scope'], `${path}.auth`, where, 'auth');
        if (!AUTH_TYPES.includes(auth.type as string))
          this.problem(`${path}.auth.type`, `auth type is ${AUTH_TYPES.join(' or ')}`, where);
        if (auth.type === 'OIDC' && (auth.scopes !== undefined || auth.scope !== undefined))
          this.problem(`${path}.auth`, 'scopes go with OAuth2, not OIDC (OIDC takes audience)', where);
        if (auth.type === 'OAuth2' && auth.audience !== undefined)
          this.problem(`${path}.auth`, 'audience goes with OIDC, not OAuth2', where);
      }
    }
    if (args.headers !== undefined && !isMap(args.headers) && !isExpression(args.headers))
      this.problem(`${path}.headers`, 'headers is a map of strings', where);
    if (args.query !== undefined && !isMap(args.query) && !isExpression(args.query))
      this.problem(`${path}.query`, 'query is a map', where);
  }

  logArgs(args: unknown, path: string, where: string): void {
    if (!isMap(args)) {
      this.problem(path, 'sys.log needs args with one of data, text or json', where);
      return;
    }
    this.knownKeys(args, ['data', 'text', 'json', 'severity', 'timeout'], path, where, 'sys.log');
    const payloads = ['data', 'text', 'json'].filter((k) => args[k] !== undefined);
    if (payloads.length !== 1) this.problem(path, 'sys.log takes exactly one of data, text and json', where);
    if (args.json !== undefined && !isMap(args.json) && !isExpression(args.json))
      this.problem(`${path}.json`, 'json is a map', where);
    if (
      typeof args.severity === 'string' &&
      !isExpression(args.severity) &&
      !LOG_SEVERITIES.includes(args.severity)
    )
      this.problem(`${path}.severity`, `severity is one of ${LOG_SEVERITIES.join(', ')}`, where);
  }

  subworkflowArgs(args: unknown, path: string, where: string): void {
    if (args !== undefined && !isMap(args)) this.problem(path, 'a subworkflow takes args as a map', where);
  }

  switchStep(
    list: unknown,
    path: string,
    trail: string[],
    frame: Frame,
    blocks: Map<string, WorkflowStep[]>,
  ): void {
    const where = trail.join(' › ');
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CONDITIONS) {
      this.problem(path, `switch is a list of 1 to ${MAX_CONDITIONS} conditions`, where);
      return;
    }
    list.forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (!isMap(item) || item.condition === undefined) {
        this.problem(at, 'each switch entry is a map with a condition', where);
        return;
      }
      this.knownKeys(item, SWITCH_CONDITION_KEYS, at, where, 'a switch condition');
      if (typeof item.condition !== 'boolean' && !isExpression(item.condition))
        this.problem(`${at}.condition`, 'condition is an expression $' + '{...} or true', where);
      this.value(item.condition, `${at}.condition`, where);
      if (Object.keys(item).length === 1)
        this.problem(at, 'a condition needs next, steps or a step of its own', where);
      if (item.next !== undefined) this.jump(item.next, `${at}.next`, where, frame);
      if ((item.args !== undefined || item.result !== undefined) && item.call === undefined)
        this.problem(at, 'args and result go with call', where);
      if (item.assign !== undefined) this.assign(item.assign, `${at}.assign`, where);
      if (item.call !== undefined) this.call(item, at, where);
      for (const key of ['return', 'raise'] as const)
        if (item[key] !== undefined) this.value(item[key], `${at}.${key}`, where);
      if (item.steps !== undefined)
        blocks.set(`switch.${i}`, this.stepList(item.steps, `${at}.steps`, trail, frame));
    });
  }

  tryStep(
    name: string,
    body: Json,
    path: string,
    trail: string[],
    frame: Frame,
    blocks: Map<string, WorkflowStep[]>,
  ): void {
    const where = trail.join(' › ');
    const tryBody = body.try;
    if (isMap(tryBody) && Object.keys(tryBody).length === 1 && tryBody.steps !== undefined) {
      blocks.set('try', this.stepList(tryBody.steps, `${path}.try.steps`, trail, frame));
    } else {
      // The try body is one step without a name of its own.
      const inner = this.step(name, tryBody, `${path}.try`, trail, frame);
      if (inner !== undefined) blocks.set('try', [inner]);
    }
    if (body.retry === undefined && body.except === undefined)
      this.problem(path, 'try needs retry, except or both', where);
    if (body.retry !== undefined) this.retry(body.retry, `${path}.retry`, where);
    if (body.except !== undefined) {
      const except = body.except;
      if (!isMap(except)) {
        this.problem(`${path}.except`, 'except is a map with as and steps', where);
        return;
      }
      this.knownKeys(except, ['as', 'steps'], `${path}.except`, where, 'except');
      if (except.as !== undefined) {
        if (typeof except.as !== 'string' || !IDENTIFIER.test(except.as))
          this.problem(`${path}.except.as`, 'as names the variable that holds the error map', where);
        else this.#scope.defined.add(except.as);
      }
      if (except.steps === undefined) this.problem(`${path}.except`, 'except needs steps', where);
      else blocks.set('except', this.stepList(except.steps, `${path}.except.steps`, trail, frame));
    }
  }

  retry(retry: unknown, path: string, where: string): void {
    if (isExpression(retry)) {
      this.value(retry, path, where);
      return;
    }
    if (!isMap(retry)) {
      this.problem(
        path,
        'retry is a policy ($' + '{http.default_retry}) or a map with predicate, max_retries, backoff',
        where,
      );
      return;
    }
    this.knownKeys(retry, ['predicate', 'max_retries', 'backoff'], path, where, 'retry');
    if (!isExpression(retry.predicate))
      this.problem(`${path}.predicate`, 'predicate is an expression $' + '{...}', where);
    else this.value(retry.predicate, `${path}.predicate`, where);
    if (
      !isExpression(retry.max_retries) &&
      !(Number.isInteger(retry.max_retries) && (retry.max_retries as number) >= 0)
    )
      this.problem(`${path}.max_retries`, 'max_retries is a whole number', where);
    const backoff = retry.backoff;
    if (isExpression(backoff)) this.value(backoff, `${path}.backoff`, where);
    else if (!isMap(backoff))
      this.problem(`${path}.backoff`, 'backoff is a map with initial_delay, max_delay and multiplier', where);
    else {
      this.knownKeys(
        backoff,
        ['initial_delay', 'max_delay', 'multiplier'],
        `${path}.backoff`,
        where,
        'backoff',
      );
      for (const key of ['initial_delay', 'max_delay', 'multiplier'])
        if (
          !isExpression(backoff[key]) &&
          !(typeof backoff[key] === 'number' && (backoff[key] as number) > 0)
        )
          this.problem(`${path}.backoff.${key}`, `${key} is a positive number`, where);
    }
  }

  forStep(
    loop: unknown,
    path: string,
    trail: string[],
    frame: Frame,
    blocks: Map<string, WorkflowStep[]>,
  ): void {
    const where = trail.join(' › ');
    if (!isMap(loop)) {
      this.problem(path, 'for is a map with value, in or range, and steps', where);
      return;
    }
    this.knownKeys(loop, ['value', 'index', 'in', 'range', 'steps'], path, where, 'for');
    for (const key of ['value', 'index'])
      if (loop[key] !== undefined) {
        if (typeof loop[key] !== 'string' || !IDENTIFIER.test(loop[key]))
          this.problem(`${path}.${key}`, `${key} names a variable`, where);
        else this.#scope.defined.add(loop[key]);
      }
    if (loop.value === undefined && loop.index === undefined)
      this.problem(path, 'for needs value (or index)', where);
    if ((loop.in === undefined) === (loop.range === undefined))
      this.problem(path, 'for takes exactly one of in and range', where);
    if (loop.in !== undefined && !Array.isArray(loop.in) && !isExpression(loop.in))
      this.problem(`${path}.in`, 'in is a list or an expression', where);
    if (
      loop.range !== undefined &&
      !isExpression(loop.range) &&
      !(Array.isArray(loop.range) && loop.range.length === 2)
    )
      this.problem(`${path}.range`, 'range is [first, last] or an expression', where);
    for (const key of ['in', 'range'])
      if (loop[key] !== undefined) this.value(loop[key], `${path}.${key}`, where);
    if (loop.steps === undefined) this.problem(path, 'for needs steps', where);
    else
      blocks.set(
        'for',
        this.stepList(loop.steps, `${path}.steps`, trail, { ...frame, reachable: new Set(), inFor: true }),
      );
  }

  parallelStep(
    parallel: unknown,
    path: string,
    trail: string[],
    frame: Frame,
    blocks: Map<string, WorkflowStep[]>,
  ): void {
    const where = trail.join(' › ');
    if (!isMap(parallel)) {
      this.problem(path, 'parallel is a map with branches or for', where);
      return;
    }
    this.knownKeys(
      parallel,
      ['exception_policy', 'shared', 'concurrency_limit', 'branches', 'for'],
      path,
      where,
      'parallel',
    );
    if ((parallel.branches === undefined) === (parallel.for === undefined))
      this.problem(path, 'parallel takes exactly one of branches and for', where);
    if (parallel.exception_policy !== undefined && parallel.exception_policy !== 'continueAll')
      this.problem(`${path}.exception_policy`, 'exception_policy is continueAll', where);
    if (
      parallel.shared !== undefined &&
      (!Array.isArray(parallel.shared) || !parallel.shared.every((s) => typeof s === 'string'))
    )
      this.problem(`${path}.shared`, 'shared is a list of variable names', where);
    if (parallel.for !== undefined) this.forStep(parallel.for, `${path}.for`, trail, frame, blocks);
    if (parallel.branches !== undefined) {
      if (!Array.isArray(parallel.branches) || parallel.branches.length < 2) {
        this.problem(`${path}.branches`, 'branches is a list of at least two named branches', where);
        return;
      }
      parallel.branches.forEach((branch, i) => {
        const at = `${path}.branches[${i}]`;
        if (!isMap(branch) || Object.keys(branch).length !== 1) {
          this.problem(at, 'each branch is a one-key map (branch name: {steps})', where);
          return;
        }
        const [branchName, definition] = Object.entries(branch)[0]!;
        if (!isMap(definition) || definition.steps === undefined) {
          this.problem(`${at}.${branchName}`, 'a branch is a map with steps', where);
          return;
        }
        this.knownKeys(definition, ['steps'], `${at}.${branchName}`, where, 'a branch');
        blocks.set(
          `branch.${branchName}`,
          this.stepList(definition.steps, `${at}.${branchName}.steps`, [...trail, branchName], {
            ...frame,
            reachable: new Set(),
          }),
        );
      });
    }
  }

  /** Any value: expressions must parse and read only assigned variables and known functions. */
  value(value: unknown, path: string, where: string): void {
    if (typeof value === 'string') {
      if (isExpression(value)) {
        let expr: Expr;
        try {
          expr = parseExpression(expressionSource(value));
        } catch (error) {
          if (!(error instanceof ExpressionSyntaxError)) throw error;
          this.problem(path, error.message, where);
          return;
        }
        this.reads(expr, path, where);
      } else if ((value as string).includes('${')) {
        this.problem(
          path,
          `"${value}" holds \${ but is not one whole expression \${...}: Workflows keeps it as text`,
          where,
        );
      }
      return;
    }
    if (Array.isArray(value)) for (const [i, v] of value.entries()) this.value(v, `${path}[${i}]`, where);
    else if (isMap(value)) for (const [k, v] of Object.entries(value)) this.value(v, `${path}.${k}`, where);
  }

  reads(expr: Expr, path: string, where: string): void {
    const walk = (e: Expr): void => {
      const name = e.type === 'member' || e.type === 'variable' ? qualifiedName(e) : undefined;
      if (name !== undefined && (KNOWN_CONSTANTS.has(name) || this.#subworkflowNames.has(name))) return;
      if (name !== undefined && KNOWN_FUNCTIONS.has(name)) {
        this.problem(path, `${name} is a function: call it, ${name}(...)`, where);
        return;
      }
      if (e.type === 'variable') {
        this.#scope.reads.push({ name: e.name, path, step: where });
        return;
      }
      if (e.type === 'call' && !KNOWN_FUNCTIONS.has(e.name) && !this.#subworkflowNames.has(e.name))
        this.problem(path, `${e.name} is not a Workflows standard-library function or a subworkflow`, where);
      subexpressions(e).forEach(walk);
    };
    walk(expr);
  }

  knownKeys(
    map: Json,
    allowed: readonly string[],
    path: string,
    where: string | undefined,
    what: string,
  ): void {
    for (const key of Object.keys(map))
      if (!allowed.includes(key))
        this.problem(
          `${path}.${key}`,
          `unknown key "${key}" in ${what} (allowed: ${allowed.join(', ')})`,
          where,
        );
  }
}
