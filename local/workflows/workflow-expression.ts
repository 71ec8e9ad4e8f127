// Workflows expressions, `${...}`: a tokenizer, a precedence-climbing parser and an evaluator (no
// eval). The grammar is Workflows' own, which no JS expression library parses as is: `//` is floor
// division, `and`/`or`/`not`/`in` are words, `not` binds tighter than unary minus, and map literals
// take quoted keys. Precedence, from the reference (syntax/datatypes, "Order of operations"), most
// binding first: () . [] · not · unary - · * / // % · + - · < <= > >= == != in · and · or.
//
// Values are JSON values. Workflows' integers and doubles both become JS numbers here: the runner
// does not reproduce 64-bit integer overflow or the int/double distinction of string().
// `and`/`or` evaluate both operands (the reference promises no short-circuit), so a workflow that
// runs here never depends on one.

import { isWorkflowMap, type WorkflowMap, type WorkflowValue, workflowError } from './workflow-errors.js';

export type Expr =
  | { type: 'literal'; value: WorkflowValue }
  | { type: 'variable'; name: string }
  | { type: 'member'; object: Expr; name: string }
  | { type: 'index'; object: Expr; index: Expr }
  | { type: 'call'; name: string; args: Expr[] }
  | { type: 'unary'; op: 'not' | '-'; operand: Expr }
  | { type: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { type: 'list'; items: Expr[] }
  | { type: 'map'; entries: { key: string; value: Expr }[] };

type BinaryOp =
  | 'or'
  | 'and'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | '+'
  | '-'
  | '*'
  | '/'
  | '//'
  | '%';

export class ExpressionSyntaxError extends Error {
  readonly code = 'expression_syntax';

  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${message} in \${${source}}`);
    this.name = 'ExpressionSyntaxError';
  }
}

/** `${...}` and nothing else: Workflows evaluates a value only when the whole string is one expression. */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('${') && value.endsWith('}');
}

/** The text between `${` and `}`. */
export function expressionSource(value: string): string {
  return value.slice(2, -1);
}

type Token =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'name'; value: string; at: number }
  | { kind: 'op'; value: string; at: number }
  | { kind: 'end'; at: number };

const OPERATORS = [
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '.',
];
const WORD_OPERATORS: Record<string, BinaryOp | 'not'> = {
  and: 'and',
  AND: 'and',
  or: 'or',
  OR: 'or',
  not: 'not',
  NOT: 'not',
  in: 'in',
};
const CONSTANTS: Record<string, WorkflowValue> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
  null: null,
};
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
};

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(source.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[1]), at: i });
      i += number[1]!.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (name) {
      tokens.push({ kind: 'name', value: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] !== '\\') {
          value += source[j];
          continue;
        }
        const escaped = source[++j];
        if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(j + 1, j + 5))) {
          value += String.fromCharCode(Number.parseInt(source.slice(j + 1, j + 5), 16));
          j += 4;
        } else if (escaped !== undefined && escaped in ESCAPES) {
          value += ESCAPES[escaped];
        } else {
          throw new ExpressionSyntaxError(source, `unknown escape \\${escaped ?? ''} at ${j}`);
        }
      }
      if (j >= source.length) throw new ExpressionSyntaxError(source, `unterminated string at ${i}`);
      tokens.push({ kind: 'string', value, at: i });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined)
      throw new ExpressionSyntaxError(source, `unexpected character ${JSON.stringify(c)} at ${i}`);
    tokens.push({ kind: 'op', value: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

const BINARY_LEVELS: BinaryOp[][] = [
  ['or'],
  ['and'],
  ['==', '!=', '<', '<=', '>', '>=', 'in'],
  ['+', '-'],
  ['*', '/', '//', '%'],
];

/** Parses the source of one expression (without `${` `}`). */
export function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const fail = (message: string, token = peek()): never => {
    throw new ExpressionSyntaxError(source, `${message} at ${token.at}`);
  };
  const isOp = (value: string) => {
    const t = peek();
    return t.kind === 'op' && t.value === value;
  };
  const expectOp = (value: string) => {
    if (!isOp(value)) fail(`expected "${value}"`);
    pos++;
  };
  const binaryOpAt = (level: BinaryOp[]): BinaryOp | undefined => {
    const t = peek();
    if (t.kind === 'op' && (level as string[]).includes(t.value)) return t.value as BinaryOp;
    if (t.kind === 'name') {
      const word = WORD_OPERATORS[t.value];
      if (word !== undefined && word !== 'not' && level.includes(word)) return word;
    }
    return undefined;
  };

  const parseLevel = (level: number): Expr => {
    if (level === BINARY_LEVELS.length) return parseUnary();
    let left = parseLevel(level + 1);
    for (
      let op = binaryOpAt(BINARY_LEVELS[level]!);
      op !== undefined;
      op = binaryOpAt(BINARY_LEVELS[level]!)
    ) {
      pos++;
      left = { type: 'binary', op, left, right: parseLevel(level + 1) };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    const t = peek();
    if (t.kind === 'name' && WORD_OPERATORS[t.value] === 'not') {
      pos++;
      return { type: 'unary', op: 'not', operand: parseUnary() };
    }
    if (isOp('-')) {
      pos++;
      return { type: 'unary', op: '-', operand: parseUnary() };
    }
    return parsePostfix();
  };
  const parsePostfix = (): Expr => {
    let expr = parsePrimary();
    for (;;) {
      if (isOp('.')) {
        pos++;
        const name = peek();
        if (name.kind !== 'name') fail('expected a name after "."');
        pos++;
        expr = { type: 'member', object: expr, name: (name as { value: string }).value };
      } else if (isOp('[')) {
        pos++;
        const index = parseLevel(0);
        expectOp(']');
        expr = { type: 'index', object: expr, index };
      } else if (isOp('(')) {
        const name = qualifiedName(expr);
        if (name === undefined) fail('only functions can be called');
        pos++;
        const args: Expr[] = [];
        if (!isOp(')')) {
          do args.push(parseLevel(0));
          while (isOp(',') && ++pos);
        }
        expectOp(')');
        expr = { type: 'call', name: name as string, args };
      } else {
        return expr;
      }
    }
  };
  const parsePrimary = (): Expr => {
    const t = peek();
    pos++;
    switch (t.kind) {
      case 'number':
        return { type: 'literal', value: t.value };
      case 'string':
        return { type: 'literal', value: t.value };
      case 'name':
        if (t.value in CONSTANTS) return { type: 'literal', value: CONSTANTS[t.value]! };
        if (t.value in WORD_OPERATORS) return fail(`unexpected operator "${t.value}"`, t);
        return { type: 'variable', name: t.value };
      case 'op':
        if (t.value === '(') {
          const inner = parseLevel(0);
          expectOp(')');
          return inner;
        }
        if (t.value === '[') {
          const items: Expr[] = [];
          if (!isOp(']')) {
            do items.push(parseLevel(0));
            while (isOp(',') && ++pos);
          }
          expectOp(']');
          return { type: 'list', items };
        }
        if (t.value === '{') {
          const entries: { key: string; value: Expr }[] = [];
          if (!isOp('}')) {
            do {
              const key = peek();
              if (key.kind !== 'string') fail('map keys are quoted strings');
              pos++;
              expectOp(':');
              entries.push({ key: (key as { value: string }).value, value: parseLevel(0) });
            } while (isOp(',') && ++pos);
          }
          expectOp('}');
          return { type: 'map', entries };
        }
        return fail(`unexpected "${t.value}"`, t);
      case 'end':
        return fail('unexpected end', t);
    }
  };

  const expr = parseLevel(0);
  if (peek().kind !== 'end') fail('unexpected input');
  return expr;
}

/** `a.b.c` as "a.b.c" when the expression is only names and dots (a function's or module member's name). */
export function qualifiedName(expr: Expr): string | undefined {
  if (expr.type === 'variable') return expr.name;
  if (expr.type === 'member') {
    const object = qualifiedName(expr.object);
    return object === undefined ? undefined : `${object}.${expr.name}`;
  }
  return undefined;
}

/** The expressions directly inside one: what every walk over an expression tree descends into. */
export function subexpressions(e: Expr): readonly Expr[] {
  switch (e.type) {
    case 'literal':
    case 'variable':
      return [];
    case 'member':
      return [e.object];
    case 'index':
      return [e.object, e.index];
    case 'call':
      return e.args;
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'list':
      return e.items;
    case 'map':
      return e.entries.map((entry) => entry.value);
  }
}

/** Variables an expression reads (roots of member chains), and the functions it calls. */
export function references(expr: Expr): { variables: Set<string>; functions: Set<string> } {
  const variables = new Set<string>();
  const functions = new Set<string>();
  const walk = (e: Expr): void => {
    if (e.type === 'variable') variables.add(e.name);
    if (e.type === 'call') functions.add(e.name);
    subexpressions(e).forEach(walk);
  };
  walk(expr);
  return { variables, functions };
}

export interface EvaluationContext {
  /** The variable's value, or undefined when no variable has that name. */
  variable(name: string): WorkflowValue | undefined;
  /** Calls a standard-library function by its qualified name. */
  call(name: string, args: WorkflowValue[]): WorkflowValue;
}

export function typeName(value: WorkflowValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'double';
  return typeof value === 'boolean' ? 'boolean' : 'string';
}

const typeError = (message: string) => workflowError('TypeError', message);

export function evaluate(expr: Expr, context: EvaluationContext): WorkflowValue {
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'variable': {
      const value = context.variable(expr.name);
      if (value === undefined)
        throw workflowError(
          'KeyError',
          `symbol '${expr.name}' is neither a variable nor a sub-workflow name`,
        );
      return value;
    }
    case 'member': {
      const object = evaluate(expr.object, context);
      if (!isWorkflowMap(object)) throw typeError(`cannot read key '${expr.name}' of a ${typeName(object)}`);
      if (!Object.hasOwn(object, expr.name)) throw workflowError('KeyError', `key not found: ${expr.name}`);
      return object[expr.name]!;
    }
    case 'index':
      return indexValue(evaluate(expr.object, context), evaluate(expr.index, context));
    case 'call':
      return context.call(
        expr.name,
        expr.args.map((a) => evaluate(a, context)),
      );
    case 'unary': {
      const operand = evaluate(expr.operand, context);
      if (expr.op === 'not') {
        if (typeof operand !== 'boolean')
          throw typeError(`not: expected a boolean, got a ${typeName(operand)}`);
        return !operand;
      }
      if (typeof operand !== 'number')
        throw typeError(`unary -: expected a number, got a ${typeName(operand)}`);
      return -operand;
    }
    case 'binary':
      return binary(expr.op, evaluate(expr.left, context), evaluate(expr.right, context));
    case 'list':
      return expr.items.map((item) => evaluate(item, context));
    case 'map': {
      const map: WorkflowMap = {};
      for (const entry of expr.entries) map[entry.key] = evaluate(entry.value, context);
      return map;
    }
  }
}

export function indexValue(object: WorkflowValue, index: WorkflowValue): WorkflowValue {
  if (Array.isArray(object)) {
    if (typeof index !== 'number' || !Number.isInteger(index))
      throw typeError(`list index must be an integer, got a ${typeName(index)}`);
    if (index < 0 || index >= object.length)
      throw workflowError('IndexError', `list index ${index} out of range (length ${object.length})`);
    return object[index]!;
  }
  if (isWorkflowMap(object)) {
    if (typeof index !== 'string') throw typeError(`map key must be a string, got a ${typeName(index)}`);
    if (!Object.hasOwn(object, index)) throw workflowError('KeyError', `key not found: ${index}`);
    return object[index]!;
  }
  throw typeError(`cannot index a ${typeName(object)}`);
}

export function deepEqual(a: WorkflowValue, b: WorkflowValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]!));
  if (isWorkflowMap(a) && isWorkflowMap(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k]!, b[k]!))
    );
  }
  return false;
}

function binary(op: BinaryOp, left: WorkflowValue, right: WorkflowValue): WorkflowValue {
  const numbers = typeof left === 'number' && typeof right === 'number';
  const mismatch = () =>
    typeError(`${op}: unsupported operand types ${typeName(left)} and ${typeName(right)}`);
  switch (op) {
    case 'and':
    case 'or':
      if (typeof left !== 'boolean' || typeof right !== 'boolean') throw mismatch();
      return op === 'and' ? left && right : left || right;
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (!numbers && !(typeof left === 'string' && typeof right === 'string')) throw mismatch();
      const l = left as number | string;
      const r = right as number | string;
      return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
    }
    case 'in':
      if (Array.isArray(right)) return right.some((item) => deepEqual(item, left));
      if (isWorkflowMap(right)) {
        if (typeof left !== 'string') throw mismatch();
        return Object.hasOwn(right, left);
      }
      throw mismatch();
    case '+':
      if (numbers) return (left as number) + (right as number);
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      throw mismatch();
    case '-':
    case '*':
    case '/':
    case '//':
    case '%': {
      if (!numbers) throw mismatch();
      const l = left as number;
      const r = right as number;
      if (op === '-') return l - r;
      if (op === '*') return l * r;
      if (r === 0) throw workflowError('ZeroDivisionError', `${op}: division by zero`);
      if (op === '/') return l / r;
      if (op === '//') return Math.floor(l / r);
      return l - r * Math.floor(l / r);
    }
  }
}
