/**
 * BigQuery GoogleSQL → DuckDB SQL, for the SELECT subset the stand-in runs. Pure.
 *
 * The rewrite works on tokens (never on raw text), so string literals, comments and quoted names are
 * never mistaken for code. It is deliberately small and closed: anything it does not know to mean the
 * same in both dialects is rejected with a `QueryRewriteError`, never passed through to give a
 * different answer.
 *
 * What it does:
 * - Only one SELECT (or WITH … SELECT) statement; a trailing `;` is dropped. DML, DDL and scripting
 *   are rejected.
 * - Table paths: `project.dataset.table` (backticked or not) and `dataset.table` become
 *   `"dataset"."table"`; the project must be the job's (or the stand-in's default) project.
 *   Wildcard tables and INFORMATION_SCHEMA are rejected.
 * - Literals: "double-quoted" and '''triple-quoted''' strings (with BigQuery escapes) and r'raw'
 *   strings become DuckDB '…' strings; decimal literals become DOUBLE (FLOAT64 in BigQuery, DECIMAL in
 *   DuckDB); typed literals TIMESTAMP '…' → TIMESTAMPTZ, DATETIME '…' → TIMESTAMP, NUMERIC '…',
 *   JSON '…'.
 * - Parameters: `@name` → `$name` (bound by the executor, never interpolated); `?` → `$1`, `$2`, ….
 * - CAST/SAFE_CAST target types (INT64 → BIGINT, FLOAT64 → DOUBLE, TIMESTAMP → TIMESTAMPTZ, …),
 *   EXTRACT parts, INTERVAL expressions, `SELECT * EXCEPT (…)`.
 * - Functions: an allowlist of functions whose DuckDB namesake behaves the same, plus rewrites for
 *   TIMESTAMP_ADD/SUB, DATE_ADD/SUB, DATETIME_ADD/SUB, TIMESTAMP_DIFF, DATE_DIFF, *_TRUNC,
 *   UNIX_SECONDS/MILLIS/MICROS, TIMESTAMP_SECONDS/MILLIS/MICROS, CONCAT, LOG, DIV, SAFE_DIVIDE,
 *   COUNTIF, LOGICAL_AND/OR, REGEXP_CONTAINS, GENERATE_UUID, CURRENT_*. Any other function is rejected.
 */

export type QueryRewriteErrorCode = 'QUERY_SYNTAX' | 'QUERY_UNSUPPORTED';

export class QueryRewriteError extends Error {
  override readonly name = 'QueryRewriteError';
  constructor(
    readonly code: QueryRewriteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface QueryRewriteOptions {
  /** Projects a `project.dataset.table` path may name: the job's project and the stand-in's default. */
  projectIds: readonly string[];
}

export interface RewrittenQuery {
  sql: string;
  /** Named parameters referenced, lower-cased, in order of first use. */
  namedParameters: string[];
  /** Number of `?` placeholders. */
  positionalParameterCount: number;
}

type Token =
  | { kind: 'ident'; text: string; upper: string; pos: number }
  | { kind: 'quoted'; parts: string[]; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'param'; name: string; pos: number }
  | { kind: 'positional'; pos: number }
  | { kind: 'punct'; text: string; pos: number };

const syntaxError = (message: string): QueryRewriteError => new QueryRewriteError('QUERY_SYNTAX', message);
const unsupported = (what: string, hint = ''): QueryRewriteError =>
  new QueryRewriteError('QUERY_UNSUPPORTED', `${what} is not supported by the BigQuery stand-in${hint}`);

function position(sql: string, offset: number): string {
  const before = sql.slice(0, offset).split('\n');
  return `[${before.length}:${(before.at(-1)?.length ?? 0) + 1}]`;
}

// ---------------------------------------------------------------------------------------------- lexer

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const TWO_CHAR_PUNCT = new Set(['<=', '>=', '<>', '!=', '||', '<<', '>>', '=>']);
const ONE_CHAR_PUNCT = new Set([...'(),.;+-*/%=<>~&|^[]{}:']);
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '?': '?',
  '"': '"',
  "'": "'",
  '`': '`',
};

function decodeEscapes(raw: string, sql: string, pos: number): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = raw[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i += 1;
      continue;
    }
    const hex = (length: number): string => {
      const digits = raw.slice(i + 2, i + 2 + length);
      if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) {
        throw syntaxError(`Illegal escape sequence: \\${next}${digits} at ${position(sql, pos)}`);
      }
      i += 1 + length;
      return String.fromCodePoint(Number.parseInt(digits, 16));
    };
    if (next === 'x' || next === 'X') out += hex(2);
    else if (next === 'u') out += hex(4);
    else if (next === 'U') out += hex(8);
    else if (/[0-7]/.test(next)) {
      const digits = raw.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits))
        throw syntaxError(`Illegal escape sequence: \\${digits} at ${position(sql, pos)}`);
      out += String.fromCodePoint(Number.parseInt(digits, 8));
      i += 3;
    } else {
      throw syntaxError(`Illegal escape sequence: \\${next} at ${position(sql, pos)}`);
    }
  }
  return out;
}

/** Reads a quoted literal starting at `start` (the quote); returns its raw body and end offset. */
function readQuoted(sql: string, start: number, raw: boolean): { body: string; end: number } {
  const quote = sql[start] as string;
  const triple = sql.startsWith(quote.repeat(3), start);
  const delimiter = triple ? quote.repeat(3) : quote;
  let i = start + delimiter.length;
  while (i < sql.length) {
    if (sql[i] === '\\') {
      // A backslash always protects the next character from closing the literal, raw or not.
      i += 2;
      continue;
    }
    if (!triple && sql[i] === '\n' && quote !== '`') {
      throw syntaxError(`Unclosed string literal at ${position(sql, start)}`);
    }
    if (sql.startsWith(delimiter, i)) {
      return { body: sql.slice(start + delimiter.length, i), end: i + delimiter.length };
    }
    i += 1;
  }
  const what = quote === '`' ? 'identifier' : 'string literal';
  throw syntaxError(`Unclosed ${what} at ${position(sql, start)}${raw ? ' (raw)' : ''}`);
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    const rest2 = sql.slice(i, i + 2);
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '#' || rest2 === '--') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (rest2 === '/*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw syntaxError(`Unclosed comment at ${position(sql, i)}`);
      i = end + 2;
    } else if (ch === '`') {
      const { body, end } = readQuoted(sql, i, false);
      if (body.length === 0) throw syntaxError(`Invalid empty identifier at ${position(sql, i)}`);
      tokens.push({ kind: 'quoted', parts: body.split('.'), pos: i });
      i = end;
    } else if (ch === "'" || ch === '"') {
      const { body, end } = readQuoted(sql, i, false);
      tokens.push({ kind: 'string', value: decodeEscapes(body, sql, i), pos: i });
      i = end;
    } else if (IDENT_START.test(ch)) {
      let end = i + 1;
      while (end < sql.length && IDENT_PART.test(sql[end] as string)) end += 1;
      const text = sql.slice(i, end);
      const quote = sql[end];
      if ((quote === "'" || quote === '"') && /^(r|b|rb|br)$/i.test(text)) {
        if (/b/i.test(text)) throw unsupported(`BYTES literal at ${position(sql, i)}`);
        const literal = readQuoted(sql, end, true);
        tokens.push({ kind: 'string', value: literal.body, pos: i });
        i = literal.end;
      } else {
        tokens.push({ kind: 'ident', text, upper: text.toUpperCase(), pos: i });
        i = end;
      }
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const match = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(sql.slice(i));
      const text = match?.[0] ?? ch;
      if (IDENT_PART.test(sql[i + text.length] ?? '')) {
        throw syntaxError(`Syntax error: Unexpected "${text}${sql[i + text.length]}" at ${position(sql, i)}`);
      }
      tokens.push({ kind: 'number', text, pos: i });
      i += text.length;
    } else if (ch === '@') {
      if (sql[i + 1] === '@') throw unsupported(`System variable at ${position(sql, i)}`);
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1));
      if (!match) throw syntaxError(`Syntax error: Unexpected "@" at ${position(sql, i)}`);
      tokens.push({ kind: 'param', name: match[0].toLowerCase(), pos: i });
      i += 1 + match[0].length;
    } else if (ch === '?') {
      tokens.push({ kind: 'positional', pos: i });
      i += 1;
    } else if (TWO_CHAR_PUNCT.has(rest2)) {
      tokens.push({ kind: 'punct', text: rest2, pos: i });
      i += 2;
    } else if (ONE_CHAR_PUNCT.has(ch)) {
      tokens.push({ kind: 'punct', text: ch, pos: i });
      i += 1;
    } else {
      throw syntaxError(`Syntax error: Illegal input character "${ch}" at ${position(sql, i)}`);
    }
  }
  return tokens;
}

// ------------------------------------------------------------------------------------ rewrite tables

const INTERVAL_UNITS = [
  'MICROSECOND',
  'MILLISECOND',
  'SECOND',
  'MINUTE',
  'HOUR',
  'DAY',
  'WEEK',
  'MONTH',
  'QUARTER',
  'YEAR',
] as const;
const TIMESTAMP_UNITS = ['MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY'] as const;
const DATE_UNITS = ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'] as const;

/** DuckDB date-part names for BigQuery parts, where their meaning is the same. */
const DUCKDB_PART: Record<string, string> = {
  MICROSECOND: 'microseconds',
  MILLISECOND: 'milliseconds',
  SECOND: 'second',
  MINUTE: 'minute',
  HOUR: 'hour',
  DAY: 'day',
  MONTH: 'month',
  QUARTER: 'quarter',
  YEAR: 'year',
};

/** CAST target types. TIMESTAMP is an instant in BigQuery (TIMESTAMPTZ), DATETIME a civil time. */
const CAST_TYPES: Record<string, string> = {
  INT64: 'BIGINT',
  INT: 'BIGINT',
  INTEGER: 'BIGINT',
  BIGINT: 'BIGINT',
  SMALLINT: 'BIGINT',
  TINYINT: 'BIGINT',
  BYTEINT: 'BIGINT',
  FLOAT64: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  DECIMAL: 'DECIMAL(38,9)',
  BOOL: 'BOOLEAN',
  BOOLEAN: 'BOOLEAN',
  STRING: 'VARCHAR',
  TIMESTAMP: 'TIMESTAMPTZ',
  DATETIME: 'TIMESTAMP',
  DATE: 'DATE',
  TIME: 'TIME',
  JSON: 'JSON',
};

/** Functions whose DuckDB namesake takes the same arguments and returns the same values. */
const SAME_FUNCTIONS = new Set([
  // aggregates
  'COUNT',
  'SUM',
  'AVG',
  'MIN',
  'MAX',
  'ANY_VALUE',
  'STDDEV',
  'STDDEV_SAMP',
  'STDDEV_POP',
  'VARIANCE',
  'VAR_SAMP',
  'VAR_POP',
  'CORR',
  'COVAR_POP',
  'COVAR_SAMP',
  'STRING_AGG',
  'APPROX_COUNT_DISTINCT',
  // navigation and numbering
  'ROW_NUMBER',
  'RANK',
  'DENSE_RANK',
  'PERCENT_RANK',
  'CUME_DIST',
  'NTILE',
  'LAG',
  'LEAD',
  'FIRST_VALUE',
  'LAST_VALUE',
  'NTH_VALUE',
  // math
  'ABS',
  'SIGN',
  'ROUND',
  'TRUNC',
  'CEIL',
  'CEILING',
  'FLOOR',
  'SQRT',
  'POW',
  'POWER',
  'EXP',
  'LN',
  'LOG10',
  'MOD',
  // strings
  'LOWER',
  'UPPER',
  'LENGTH',
  'TRIM',
  'LTRIM',
  'RTRIM',
  'STARTS_WITH',
  'ENDS_WITH',
  'STRPOS',
  'REPLACE',
  'REVERSE',
  // conditionals
  'IF',
  'IFNULL',
  'COALESCE',
  'NULLIF',
]);

const RENAMED_FUNCTIONS: Record<string, string> = {
  COUNTIF: 'count_if',
  LOGICAL_AND: 'bool_and',
  LOGICAL_OR: 'bool_or',
  REGEXP_CONTAINS: 'regexp_matches',
  CHAR_LENGTH: 'length',
  CHARACTER_LENGTH: 'length',
  RAND: 'random',
  UNIX_MICROS: 'epoch_us',
};

/** Keywords that may be directly followed by "(" without being a function call. */
const PAREN_KEYWORDS = new Set([
  'ALL',
  'AND',
  'ANY',
  'AS',
  'BETWEEN',
  'BY',
  'CASE',
  'DISTINCT',
  'ELSE',
  'END',
  'EXCEPT',
  'EXISTS',
  'FROM',
  'HAVING',
  'IN',
  'INTERSECT',
  'IS',
  'JOIN',
  'LIKE',
  'NOT',
  'ON',
  'OR',
  'OVER',
  'QUALIFY',
  'RECURSIVE',
  'ROLLUP',
  'CUBE',
  'SETS',
  'SELECT',
  'SOME',
  'THEN',
  'UNION',
  'USING',
  'WHEN',
  'WHERE',
  'WINDOW',
  'WITH',
]);

/** Words that are always rejected: constructs with no faithful DuckDB translation here. */
const REJECTED_WORDS: Record<string, string> = {
  UNNEST: 'UNNEST (arrays)',
  ARRAY: 'ARRAY',
  STRUCT: 'STRUCT',
  PIVOT: 'PIVOT',
  UNPIVOT: 'UNPIVOT',
  TABLESAMPLE: 'TABLESAMPLE',
  SYSTEM_TIME: 'FOR SYSTEM_TIME AS OF (time travel)',
  COLLATE: 'COLLATE',
  INFORMATION_SCHEMA: 'INFORMATION_SCHEMA',
  CURRENT_TIME: 'CURRENT_TIME',
};

const STATEMENT_STARTS = new Set(['SELECT', 'WITH']);

const sqlString = (value: string): string => {
  if (value.includes('\0')) throw unsupported('A NUL character in a string literal');
  return `'${value.replaceAll("'", "''")}'`;
};

const INT64_MAX = 2n ** 63n - 1n;

type Range = readonly [start: number, end: number];

class Rewriter {
  readonly namedParameters: string[] = [];
  positionalParameterCount = 0;

  constructor(
    private readonly sql: string,
    private readonly tokens: Token[],
    private readonly options: QueryRewriteOptions,
  ) {}

  private at(index: number): string {
    const token = this.tokens[index];
    return token ? position(this.sql, token.pos) : '[end of query]';
  }

  private isPunct(index: number, text: string): boolean {
    const token = this.tokens[index];
    return token?.kind === 'punct' && token.text === text;
  }

  private isWord(index: number, upper: string): boolean {
    const token = this.tokens[index];
    return token?.kind === 'ident' && token.upper === upper;
  }

  /** Index of the ")" matching the "(" at `open`. */
  private closing(open: number, end: number): number {
    let depth = 0;
    for (let i = open; i < end; i++) {
      if (this.isPunct(i, '(')) depth += 1;
      else if (this.isPunct(i, ')')) {
        depth -= 1;
        if (depth === 0) return i;
      }
    }
    throw syntaxError(`Syntax error: Unbalanced "(" at ${this.at(open)}`);
  }

  /** Splits `[start, end)` on top-level commas. */
  private splitArgs([start, end]: Range): Range[] {
    if (start === end) return [];
    const args: Range[] = [];
    let depth = 0;
    let argStart = start;
    for (let i = start; i < end; i++) {
      if (this.isPunct(i, '(')) depth += 1;
      else if (this.isPunct(i, ')')) depth -= 1;
      else if (depth === 0 && this.isPunct(i, ',')) {
        args.push([argStart, i]);
        argStart = i + 1;
      }
    }
    args.push([argStart, end]);
    for (const [s, e] of args)
      if (s === e) throw syntaxError(`Syntax error: Empty argument at ${this.at(s)}`);
    return args;
  }

  private unit(range: Range, allowed: readonly string[], what: string): string {
    const token = this.tokens[range[0]];
    if (range[1] - range[0] !== 1 || token?.kind !== 'ident') {
      throw syntaxError(`Syntax error: Expected a date part for ${what} at ${this.at(range[0])}`);
    }
    if (!allowed.includes(token.upper))
      throw unsupported(`${what} with part ${token.upper} at ${this.at(range[0])}`);
    return token.upper;
  }

  /** The INTERVAL's unit inside `range`, which must be one `INTERVAL <expr> <unit>` expression. */
  private intervalUnit(range: Range, allowed: readonly string[], what: string): string {
    const last = this.tokens[range[1] - 1];
    if (!this.isWord(range[0], 'INTERVAL') || last?.kind !== 'ident') {
      throw syntaxError(
        `Syntax error: ${what} expects an INTERVAL as its second argument at ${this.at(range[0])}`,
      );
    }
    if (!allowed.includes(last.upper)) throw unsupported(`${what} with INTERVAL … ${last.upper}`);
    return last.upper;
  }

  rewrite(range: Range): string {
    const out: string[] = [];
    let i = range[0];
    while (i < range[1]) {
      const [text, next] = this.rewriteAt(i, range[1]);
      out.push(text);
      i = next;
    }
    return out.reduce(
      (sql, piece) => (sql === '' ? piece : piece === ',' ? `${sql},` : `${sql} ${piece}`),
      '',
    );
  }

  /** Rewrites the construct starting at token `i`; returns its SQL and the index after it. */
  private rewriteAt(i: number, end: number): [string, number] {
    const token = this.tokens[i] as Token;
    switch (token.kind) {
      case 'string':
        return [sqlString(token.value), i + 1];
      case 'number':
        return [this.number(token.text, i), i + 1];
      case 'param':
        if (!this.namedParameters.includes(token.name)) this.namedParameters.push(token.name);
        return [`$${token.name}`, i + 1];
      case 'positional':
        this.positionalParameterCount += 1;
        return [`$${this.positionalParameterCount}`, i + 1];
      case 'punct':
        return this.punct(token.text, i, end);
      case 'quoted':
        return this.path(i, end);
      case 'ident':
        if (this.isPunct(i + 1, '.') && i + 2 < end) return this.path(i, end);
        return this.word(token, i, end);
    }
  }

  private number(text: string, i: number): string {
    if (/^0[xX]/.test(text)) return BigInt(text).toString();
    if (/[.eE]/.test(text)) return `CAST(${text} AS DOUBLE)`;
    if (BigInt(text) > INT64_MAX) throw syntaxError(`Invalid integer literal: ${text} at ${this.at(i)}`);
    return text;
  }

  private punct(text: string, i: number, end: number): [string, number] {
    if (text === '[' || text === ']' || text === '{' || text === '}' || text === ':') {
      throw unsupported(`"${text}" (arrays, structs, JSON subscripts) at ${this.at(i)}`);
    }
    if (text === ';') throw unsupported(`A multi-statement query (scripting) at ${this.at(i)}`);
    if (text === '*' && this.startsSelectItem(i)) {
      const [modifier, next] = this.starModifier(i + 1, end);
      return [`*${modifier}`, next];
    }
    if (text === '(') {
      const close = this.closing(i, end);
      return [`(${this.rewrite([i + 1, close])})`, close + 1];
    }
    if (text === ')') throw syntaxError(`Syntax error: Unexpected ")" at ${this.at(i)}`);
    return [text, i + 1];
  }

  private startsSelectItem(i: number): boolean {
    const previous = this.tokens[i - 1];
    if (previous?.kind === 'punct') return previous.text === ',';
    return previous?.kind === 'ident' && ['SELECT', 'DISTINCT', 'ALL'].includes(previous.upper);
  }

  /** `* EXCEPT (a, b)` → `* EXCLUDE (a, b)`; `* REPLACE (expr AS a)` is the same in both dialects. */
  private starModifier(j: number, end: number): [string, number] {
    const modifier = this.isWord(j, 'EXCEPT') ? 'EXCLUDE' : this.isWord(j, 'REPLACE') ? 'REPLACE' : '';
    if (!modifier || !this.isPunct(j + 1, '(')) return ['', j];
    const close = this.closing(j + 1, end);
    return [` ${modifier} (${this.rewrite([j + 2, close])})`, close + 1];
  }

  /** A dotted name: table paths lose the project and get quoted parts. */
  private path(i: number, end: number): [string, number] {
    const parts: { name: string; quoted: boolean }[] = [];
    let j = i;
    for (;;) {
      const token = this.tokens[j];
      if (token?.kind === 'quoted') parts.push(...token.parts.map((name) => ({ name, quoted: true })));
      else if (token?.kind === 'ident') parts.push({ name: token.text, quoted: false });
      else throw syntaxError(`Syntax error: Unexpected end of a dotted name at ${this.at(j)}`);
      j += 1;
      const following = this.tokens[j + 1];
      if (
        !this.isPunct(j, '.') ||
        j + 1 >= end ||
        (following?.kind !== 'ident' && following?.kind !== 'quoted')
      )
        break;
      j += 1;
    }
    if (this.isPunct(j, '(')) {
      throw unsupported(`Function ${parts.map((p) => p.name).join('.')} at ${this.at(i)}`);
    }
    const first = parts[0];
    if (parts.length >= 3 && first && this.options.projectIds.includes(first.name)) parts.shift();
    else if (first?.name.includes('-')) {
      throw unsupported(
        `Project ${first.name} at ${this.at(i)}`,
        `: queries here may name ${this.options.projectIds.join(' or ')}`,
      );
    }
    for (const part of parts) {
      if (part.name.toUpperCase() === 'INFORMATION_SCHEMA')
        throw unsupported(`INFORMATION_SCHEMA at ${this.at(i)}`);
      if (part.name.includes('*')) throw unsupported(`A wildcard table at ${this.at(i)}`);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part.name)) {
        throw syntaxError(`Invalid identifier "${part.name}" at ${this.at(i)}`);
      }
    }
    const sql = parts.map((part) => (part.quoted ? `"${part.name}"` : part.name)).join('.');
    if (this.isPunct(j, '.') && this.isPunct(j + 1, '*')) {
      const [modifier, next] = this.starModifier(j + 2, end);
      return [`${sql}.*${modifier}`, next];
    }
    if (parts.length === 1 && !parts[0]?.quoted)
      return this.word(this.tokens[i] as Token & { kind: 'ident' }, i, end);
    return [sql, j];
  }

  private word(token: Token & { kind: 'ident' }, i: number, end: number): [string, number] {
    const upper = token.upper;
    const rejected = REJECTED_WORDS[upper];
    if (rejected) throw unsupported(`${rejected} at ${this.at(i)}`);
    const next = this.tokens[i + 1];
    if (next?.kind === 'string') {
      const literal = this.typedLiteral(upper, next.value, i);
      if (literal) return [literal, i + 2];
    }
    if (upper === 'INTERVAL') return this.interval(i, end);
    if (this.isPunct(i + 1, '(') && !PAREN_KEYWORDS.has(upper)) {
      const close = this.closing(i + 1, end);
      return [this.call(token, [i + 2, close]), close + 1];
    }
    if (upper === 'CURRENT_DATETIME') return ['CAST(current_timestamp AS TIMESTAMP)', i + 1];
    return [token.text, i + 1];
  }

  private typedLiteral(upper: string, value: string, i: number): string | undefined {
    switch (upper) {
      case 'TIMESTAMP':
        return `TIMESTAMPTZ ${sqlString(value)}`;
      case 'DATETIME':
        return `TIMESTAMP ${sqlString(value)}`;
      case 'DATE':
      case 'TIME':
        return `${upper} ${sqlString(value)}`;
      case 'NUMERIC':
      case 'DECIMAL':
        return `CAST(${sqlString(value)} AS DECIMAL(38,9))`;
      case 'JSON':
        return `CAST(${sqlString(value)} AS JSON)`;
      case 'BIGNUMERIC':
      case 'BIGDECIMAL':
      case 'RANGE':
        throw unsupported(`${upper} literal at ${this.at(i)}`);
      default:
        return undefined;
    }
  }

  /** INTERVAL <expr> <unit> → INTERVAL (<expr>) <unit>: DuckDB needs the parentheses for non-literals. */
  private interval(i: number, end: number): [string, number] {
    let depth = 0;
    for (let j = i + 1; j < end; j++) {
      const token = this.tokens[j] as Token;
      if (this.isPunct(j, '(')) depth += 1;
      else if (this.isPunct(j, ')')) depth -= 1;
      else if (
        depth === 0 &&
        token.kind === 'ident' &&
        (INTERVAL_UNITS as readonly string[]).includes(token.upper)
      ) {
        if (j === i + 1) break;
        if (this.isWord(j + 1, 'TO')) throw unsupported(`An INTERVAL range (… TO …) at ${this.at(i)}`);
        const single = j === i + 2 ? this.tokens[i + 1] : undefined;
        const value = single?.kind === 'string' ? sqlString(single.value) : `(${this.rewrite([i + 1, j])})`;
        return [`INTERVAL ${value} ${token.upper}`, j + 1];
      }
      if (depth < 0 || (depth === 0 && this.isPunct(j, ','))) break;
    }
    throw syntaxError(`Syntax error: INTERVAL needs a value and a date part at ${this.at(i)}`);
  }

  private cast(name: string, inner: Range, i: number): string {
    let asIndex = -1;
    let depth = 0;
    for (let j = inner[0]; j < inner[1]; j++) {
      if (this.isPunct(j, '(')) depth += 1;
      else if (this.isPunct(j, ')')) depth -= 1;
      else if (depth === 0 && this.isWord(j, 'AS')) asIndex = j;
    }
    if (asIndex <= inner[0]) throw syntaxError(`Syntax error: ${name} needs "AS <type>" at ${this.at(i)}`);
    const typeToken = this.tokens[asIndex + 1];
    if (asIndex + 2 !== inner[1] || typeToken?.kind !== 'ident') {
      throw unsupported(`${name} to a parameterized, compound or formatted type at ${this.at(asIndex)}`);
    }
    const target = CAST_TYPES[typeToken.upper];
    if (!target) throw unsupported(`${name} to ${typeToken.upper} at ${this.at(asIndex)}`);
    const fn = name === 'SAFE_CAST' ? 'TRY_CAST' : 'CAST';
    return `${fn}(${this.rewrite([inner[0], asIndex])} AS ${target})`;
  }

  private extract(inner: Range, i: number): string {
    const part = this.tokens[inner[0]];
    if (part?.kind !== 'ident' || !this.isWord(inner[0] + 1, 'FROM')) {
      throw syntaxError(`Syntax error: EXTRACT expects "part FROM expression" at ${this.at(i)}`);
    }
    for (let j = inner[0]; j < inner[1]; j++) {
      if (this.isWord(j, 'AT')) throw unsupported(`EXTRACT … AT TIME ZONE at ${this.at(j)}`);
    }
    const value = this.rewrite([inner[0] + 2, inner[1]]);
    switch (part.upper) {
      case 'YEAR':
      case 'QUARTER':
      case 'MONTH':
      case 'DAY':
      case 'DAYOFYEAR':
      case 'HOUR':
      case 'MINUTE':
      case 'SECOND':
        return `EXTRACT(${part.upper.toLowerCase()} FROM ${value})`;
      case 'DAYOFWEEK':
        // BigQuery: 1 = Sunday … 7 = Saturday; DuckDB dow: 0 = Sunday.
        return `(EXTRACT(dow FROM ${value}) + 1)`;
      case 'MILLISECOND':
        // DuckDB counts milliseconds (and microseconds) from the start of the minute.
        return `(EXTRACT(millisecond FROM ${value}) % 1000)`;
      case 'MICROSECOND':
        return `(EXTRACT(microsecond FROM ${value}) % 1000000)`;
      case 'DATE':
        return `CAST(${value} AS DATE)`;
      default:
        throw unsupported(`EXTRACT(${part.upper} …) at ${this.at(inner[0])}`);
    }
  }

  private call(token: Token & { kind: 'ident' }, inner: Range): string {
    const name = token.upper;
    const i = token.pos;
    const at = position(this.sql, i);
    if (name === 'CAST' || name === 'SAFE_CAST') return this.cast(name, inner, this.tokens.indexOf(token));
    if (name === 'EXTRACT') return this.extract(inner, this.tokens.indexOf(token));
    if (SAME_FUNCTIONS.has(name)) return `${name.toLowerCase()}(${this.rewrite(inner)})`;
    const renamed = RENAMED_FUNCTIONS[name];
    if (renamed) return `${renamed}(${this.rewrite(inner)})`;

    const args = this.splitArgs(inner);
    const arity = (...counts: number[]): void => {
      if (!counts.includes(args.length)) {
        throw syntaxError(
          `No matching signature for function ${name} with ${args.length} argument(s) at ${at}`,
        );
      }
    };
    const arg = (n: number): string => `(${this.rewrite(args[n] as Range)})`;
    switch (name) {
      case 'TIMESTAMP_ADD':
      case 'TIMESTAMP_SUB':
      case 'DATETIME_ADD':
      case 'DATETIME_SUB':
      case 'DATE_ADD':
      case 'DATE_SUB': {
        arity(2);
        const kind = name.split('_')[0] as 'TIMESTAMP' | 'DATETIME' | 'DATE';
        const units = kind === 'TIMESTAMP' ? TIMESTAMP_UNITS : kind === 'DATE' ? DATE_UNITS : INTERVAL_UNITS;
        this.intervalUnit(args[1] as Range, units, name);
        const sum = `(${arg(0)} ${name.endsWith('_ADD') ? '+' : '-'} ${this.rewrite(args[1] as Range)})`;
        return kind === 'DATE' ? `CAST(${sum} AS DATE)` : sum;
      }
      case 'TIMESTAMP_DIFF': {
        arity(3);
        // date_sub counts whole elapsed parts, as TIMESTAMP_DIFF does (date_diff counts boundaries).
        const part = this.unit(args[2] as Range, TIMESTAMP_UNITS, name);
        return `date_sub('${DUCKDB_PART[part]}', ${arg(1)}, ${arg(0)})`;
      }
      case 'DATE_DIFF': {
        arity(3);
        // DATE_DIFF counts part boundaries crossed, as DuckDB's date_diff does.
        const part = this.unit(args[2] as Range, ['DAY', 'MONTH', 'QUARTER', 'YEAR'], name);
        return `date_diff('${DUCKDB_PART[part]}', ${arg(1)}, ${arg(0)})`;
      }
      case 'TIMESTAMP_TRUNC':
      case 'DATETIME_TRUNC': {
        arity(2);
        const part = this.unit(args[1] as Range, [...TIMESTAMP_UNITS, 'MONTH', 'QUARTER', 'YEAR'], name);
        return `date_trunc('${DUCKDB_PART[part]}', ${arg(0)})`;
      }
      case 'DATE_TRUNC': {
        arity(2);
        const part = this.unit(args[1] as Range, ['DAY', 'MONTH', 'QUARTER', 'YEAR'], name);
        return `CAST(date_trunc('${DUCKDB_PART[part]}', ${arg(0)}) AS DATE)`;
      }
      case 'TIMESTAMP':
        arity(1);
        return `CAST(${arg(0)} AS TIMESTAMPTZ)`;
      case 'DATETIME':
        arity(1);
        return `CAST(${arg(0)} AS TIMESTAMP)`;
      case 'DATE':
        arity(1, 3);
        return args.length === 1 ? `CAST(${arg(0)} AS DATE)` : `make_date(${arg(0)}, ${arg(1)}, ${arg(2)})`;
      case 'UNIX_SECONDS':
        arity(1);
        return `CAST(floor(epoch_us(${arg(0)}) / 1000000) AS BIGINT)`;
      case 'UNIX_MILLIS':
        arity(1);
        return `CAST(floor(epoch_us(${arg(0)}) / 1000) AS BIGINT)`;
      case 'UNIX_DATE':
        arity(1);
        return `date_diff('day', DATE '1970-01-01', ${arg(0)})`;
      case 'TIMESTAMP_SECONDS':
      case 'TIMESTAMP_MILLIS':
      case 'TIMESTAMP_MICROS': {
        arity(1);
        const factor = name === 'TIMESTAMP_SECONDS' ? 1_000_000 : name === 'TIMESTAMP_MILLIS' ? 1000 : 1;
        return `CAST(make_timestamp(CAST(${arg(0)} AS BIGINT) * ${factor}) AS TIMESTAMPTZ)`;
      }
      case 'CURRENT_TIMESTAMP':
      case 'CURRENT_DATE':
        arity(0);
        return name.toLowerCase();
      case 'CURRENT_DATETIME':
        arity(0);
        return 'CAST(current_timestamp AS TIMESTAMP)';
      case 'GENERATE_UUID':
        arity(0);
        return 'CAST(gen_random_uuid() AS VARCHAR)';
      case 'CONCAT':
        // BigQuery's CONCAT is NULL if any argument is; DuckDB's concat skips NULLs, its || does not.
        if (args.length === 0) arity(1);
        return `(${args.map((_, n) => arg(n)).join(' || ')})`;
      case 'LOG':
        // BigQuery's LOG is the natural log (DuckDB's log is base 10).
        arity(1, 2);
        return args.length === 1 ? `ln(${arg(0)})` : `(ln(${arg(0)}) / ln(${arg(1)}))`;
      case 'DIV':
        arity(2);
        return `(${arg(0)} // ${arg(1)})`;
      case 'SAFE_DIVIDE':
        arity(2);
        return `(CASE WHEN ${arg(1)} = 0 THEN NULL ELSE ${arg(0)} / ${arg(1)} END)`;
      default:
        throw unsupported(`Function ${name} at ${at}`);
    }
  }
}

export function rewriteBigQuerySql(sql: string, options: QueryRewriteOptions): RewrittenQuery {
  const tokens = tokenize(sql);
  while (
    tokens.length > 0 &&
    tokens.at(-1)?.kind === 'punct' &&
    (tokens.at(-1) as { text: string }).text === ';'
  ) {
    tokens.pop();
  }
  const first = tokens[0];
  if (!first) throw syntaxError('Syntax error: Unexpected end of script');
  const startsSelect =
    first.kind === 'ident' ? STATEMENT_STARTS.has(first.upper) : first.kind === 'punct' && first.text === '(';
  if (!startsSelect) {
    const what = first.kind === 'ident' ? `Statement ${first.upper}` : 'This statement';
    throw unsupported(what, ': only SELECT queries run here (no DML, DDL or scripting)');
  }
  const rewriter = new Rewriter(sql, tokens, options);
  const rewritten = rewriter.rewrite([0, tokens.length]);
  if (rewriter.namedParameters.length > 0 && rewriter.positionalParameterCount > 0) {
    throw syntaxError('Query cannot mix named (@name) and positional (?) parameters');
  }
  return {
    sql: rewritten,
    namedParameters: rewriter.namedParameters,
    positionalParameterCount: rewriter.positionalParameterCount,
  };
}
