// The Workflows standard library as the local runner knows it: the names of every function the
// reference documents (the structural check refuses any other name, as a deploy would), and
// implementations of exactly those workflows/*.yaml call. Semantics follow the reference pages
// (stdlib/<module>/<function>); the notes say where a detail is this runner's choice.

import { DateTime } from 'luxon';
import { isWorkflowMap, type WorkflowValue, workflowError } from './workflow-errors.js';
import { typeName } from './workflow-expression.js';

/** Standard-library functions, expression helpers and policies documented in the Workflows reference. */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([
  // expression helpers
  'default',
  'double',
  'get_type',
  'if',
  'int',
  'keys',
  'len',
  'string',
  // modules
  'base64.decode',
  'base64.encode',
  'events.await_callback',
  'events.create_callback_endpoint',
  'hash.compute_checksum',
  'hash.compute_hmac',
  'http.delete',
  'http.get',
  'http.patch',
  'http.post',
  'http.put',
  'http.request',
  'json.decode',
  'json.encode',
  'json.encode_to_string',
  'list.concat',
  'list.prepend',
  'map.delete',
  'map.get',
  'map.merge',
  'map.merge_nested',
  'math.abs',
  'math.floor',
  'math.max',
  'math.min',
  'math.sqrt',
  'retry.always',
  'retry.never',
  'sys.get_env',
  'sys.log',
  'sys.now',
  'sys.sleep',
  'sys.sleep_until',
  'text.decode',
  'text.encode',
  'text.find_all',
  'text.find_all_regex',
  'text.match_regex',
  'text.replace_all',
  'text.replace_all_regex',
  'text.split',
  'text.substring',
  'text.to_lower',
  'text.to_upper',
  'text.url_decode',
  'text.url_encode',
  'text.url_encode_plus',
  'time.format',
  'time.parse',
  'uuid.generate',
]);

/** Values (not functions) the reference names: retry policies, predicates and backoffs. */
export const KNOWN_CONSTANTS: ReadonlySet<string> = new Set([
  'http.default_retry',
  'http.default_retry_non_idempotent',
  'http.default_retry_predicate',
  'http.default_retry_predicate_non_idempotent',
  'retry.default_backoff',
]);

/** Functions called as steps (`call:`) that exist only as steps, or that the runner runs as steps. */
export const HTTP_CALLS: ReadonlySet<string> = new Set([
  'http.delete',
  'http.get',
  'http.patch',
  'http.post',
  'http.put',
  'http.request',
]);

export interface StdlibContext {
  /** User-defined and built-in environment variables (sys.get_env). */
  env: Readonly<Record<string, string>>;
  /** Seconds since the epoch (sys.now). */
  nowSeconds(): number;
}

type Implementation = (args: WorkflowValue[], context: StdlibContext) => WorkflowValue;

const typeError = (message: string) => workflowError('TypeError', message);
const valueError = (message: string) => workflowError('ValueError', message);

function arity(name: string, args: WorkflowValue[], min: number, max = min): void {
  if (args.length < min || args.length > max)
    throw typeError(
      `${name}: expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`,
    );
}

function string(name: string, value: WorkflowValue, what: string): string {
  if (typeof value !== 'string')
    throw typeError(`${name}: ${what} must be a string, got a ${typeName(value)}`);
  return value;
}

/** The functions workflows/*.yaml use, implemented; every other name is refused before a run. */
export const IMPLEMENTED_FUNCTIONS: Readonly<Record<string, Implementation>> = {
  /** default(val, default_val): val unless it is null. */
  default: (args) => {
    arity('default', args, 2);
    return args[0] === null ? args[1]! : args[0]!;
  },

  /** map.get(map, keys): a safe lookup; null when the input is not a map or a key is missing. */
  'map.get': (args) => {
    arity('map.get', args, 2);
    const [map, keys] = args as [WorkflowValue, WorkflowValue];
    const path =
      typeof keys === 'string'
        ? [keys]
        : Array.isArray(keys) && keys.every((k) => typeof k === 'string')
          ? (keys as string[])
          : undefined;
    if (path === undefined) throw typeError('map.get: keys must be a string or a list of strings');
    let value: WorkflowValue = map;
    for (const key of path) {
      if (!isWorkflowMap(value) || !Object.hasOwn(value, key)) return null;
      value = value[key]!;
    }
    return value;
  },

  /**
   * sys.get_env(name, default): the variable, else the default. Without a default an unset variable
   * is a KeyError here (the reference does not say; failing is the side that cannot pass locally and
   * fail in the cloud).
   */
  'sys.get_env': (args, context) => {
    arity('sys.get_env', args, 1, 2);
    const name = string('sys.get_env', args[0]!, 'name');
    const fallback = args.length === 2 ? string('sys.get_env', args[1]!, 'default') : undefined;
    const value = context.env[name] ?? fallback;
    if (value === undefined)
      throw workflowError('KeyError', `sys.get_env: ${name} is not set and has no default`);
    return value;
  },

  /** sys.now(): seconds since the epoch, a double. */
  'sys.now': (args, context) => {
    arity('sys.now', args, 0);
    return context.nowSeconds();
  },

  /**
   * time.format(seconds, timezone): ISO 8601 with microseconds, `Z` for UTC (and any zero offset),
   * else the zone's offset: time.format(1720788633, "Europe/Paris") = "2024-07-12T14:50:33.000000+02:00".
   */
  'time.format': (args) => {
    arity('time.format', args, 1, 2);
    const seconds = args[0];
    if (typeof seconds !== 'number' || !Number.isFinite(seconds))
      throw typeError(`time.format: seconds must be a number, got a ${typeName(seconds ?? null)}`);
    const zone = args.length === 2 ? string('time.format', args[1]!, 'timezone') : '';
    const micros = Math.round(seconds * 1e6);
    const whole = Math.floor(micros / 1e6);
    const at = DateTime.fromMillis(whole * 1000, { zone: zone === '' ? 'UTC' : zone });
    if (!at.isValid) throw valueError(`time.format: unknown timezone ${JSON.stringify(zone)}`);
    const fraction = String(micros - whole * 1e6).padStart(6, '0');
    const offset = at.offset === 0 ? 'Z' : at.toFormat('ZZ');
    return `${at.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.${fraction}${offset}`;
  },

  /** time.parse(value): an RFC 3339 section 5.6 timestamp (up to microseconds) as seconds, a double. */
  'time.parse': (args) => {
    arity('time.parse', args, 1);
    const value = string('time.parse', args[0]!, 'value');
    const match =
      /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
        value,
      );
    if (match === null) throw valueError(`time.parse: ${JSON.stringify(value)} is not an RFC 3339 timestamp`);
    const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = match;
    const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    const check = new Date(ms);
    if (check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h))
      throw valueError(`time.parse: ${JSON.stringify(value)} is not a valid date and time`);
    const offsetS = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60);
    return ms / 1000 + Number(`0.${frac ?? '0'}`) - offsetS;
  },

  /**
   * text.replace_all_regex(source, regexp, repl): every match replaced by repl, literally (RE2 has
   * no backreferences). Patterns run as JavaScript regular expressions; the constructs where RE2 and
   * JavaScript disagree (lookaround, backreferences) are refused as RE2 refuses them.
   */
  'text.replace_all_regex': (args) => {
    arity('text.replace_all_regex', args, 3);
    const source = string('text.replace_all_regex', args[0]!, 'source');
    const pattern = string('text.replace_all_regex', args[1]!, 'regexp');
    const repl = string('text.replace_all_regex', args[2]!, 'repl');
    if (/\(\?<?[=!]|\\[1-9]/.test(pattern))
      throw valueError(`text.replace_all_regex: ${JSON.stringify(pattern)} is not RE2 syntax`);
    let regexp: RegExp;
    try {
      regexp = new RegExp(pattern, 'gu');
    } catch (error) {
      throw valueError(`text.replace_all_regex: invalid regular expression: ${(error as Error).message}`);
    }
    return source.replace(regexp, () => repl);
  },
};
