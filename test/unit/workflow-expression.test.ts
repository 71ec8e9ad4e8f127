// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Workflows expressions are ${...} in plain strings
// Workflows expressions as the local runner parses and evaluates them: Workflows' precedence (not
// binds tighter than unary minus and arithmetic), word operators, // floor division, `in` on lists
// and maps, literals, member and index access, and the error maps (TypeError, KeyError, ...) an
// expression raises, which a workflow's except sees.

import { describe, expect, it } from 'vitest';
import { WorkflowRaise, type WorkflowValue } from '../../local/workflows/workflow-errors.js';
import {
  type EvaluationContext,
  ExpressionSyntaxError,
  evaluate,
  parseExpression,
  references,
} from '../../local/workflows/workflow-expression.js';
import { IMPLEMENTED_FUNCTIONS } from '../../local/workflows/workflow-stdlib.js';

const variables: Record<string, WorkflowValue> = {
  n: 7,
  x: 2.5,
  s: 'fleet',
  t: true,
  f: false,
  nothing: null,
  list: [1, 'two', { three: 3 }],
  m: { a: { b: 'deep' }, 'key with space': 1, n: null },
};
const context: EvaluationContext = {
  variable: (name) => variables[name],
  call: (name, args) =>
    IMPLEMENTED_FUNCTIONS[name]!(args, {
      env: { TRAINER_URL: 'http://t' },
      nowSeconds: () => 1_720_788_633.25,
    }),
};
const run = (source: string) => evaluate(parseExpression(source), context);

describe('expression values', () => {
  it.each<[string, WorkflowValue]>([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['7 // 2', 3],
    ['-7 // 2', -4],
    ['7 / 2', 3.5],
    ['7 % 3', 1],
    ['n - 10 - 2', -5],
    ['"a" + s + \'!\'', 'afleet!'],
    ['"say \\"hi\\"\\n"', 'say "hi"\n'],
    ['1.5e2', 150],
    ['n > 5 and x < 3', true],
    ['n > 5 AND NOT t', false],
    ['f or t', true],
    ['not f == true', true],
    ['not t == false', true],
    ['-n * 2', -14],
    ['"two" in list', true],
    ['{"three": 3} in list', true],
    ['"a" in m', true],
    ['"z" in m', false],
    ['m.a.b', 'deep'],
    ['m["key with space"]', 1],
    ['list[2].three', 3],
    ['list[1 + 1]["three"]', 3],
    ['[1, n, "x"]', [1, 7, 'x']],
    ['{"k": n + 1, "l": [t]}', { k: 8, l: [true] }],
    ['nothing == null', true],
    ['m.n == null', true],
    ['[1, {"a": 2}] == [1, {"a": 2}]', true],
    ['1 == "1"', false],
    ['"abc" < "abd"', true],
    ['True and TRUE and true', true],
  ])('${%s} = %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it.each<[string, WorkflowValue]>([
    ['default(nothing, "fallback")', 'fallback'],
    ['default(n, 0)', 7],
    ['map.get(m, "a")', { b: 'deep' }],
    ['map.get(m, ["a", "b"])', 'deep'],
    ['map.get(m, ["a", "missing", "b"])', null],
    ['map.get(nothing, "a")', null],
    ['map.get(s, "a")', null],
    ['sys.get_env("TRAINER_URL")', 'http://t'],
    ['sys.get_env("UNSET", "")', ''],
    ['sys.now()', 1_720_788_633.25],
    ['time.format(1720788633)', '2024-07-12T12:50:33.000000Z'],
    ['time.format(1720788633, "GMT")', '2024-07-12T12:50:33.000000Z'],
    ['time.format(1720788633, "Europe/Paris")', '2024-07-12T14:50:33.000000+02:00'],
    ['time.format(1720788633.123456)', '2024-07-12T12:50:33.123456Z'],
    ['time.parse("2024-05-08T12:01:00.000000Z")', 1_715_169_660],
    ['time.parse("2024-05-08T14:01:00.5+02:00")', 1_715_169_660.5],
    ['time.parse(time.format(sys.now(), "America/New_York"))', 1_720_788_633.25],
    ['text.replace_all_regex("one two", "one|two", "three")', 'three three'],
    ['text.replace_all_regex("2026-05-04T00:00:00.000000Z", "[-:]|[.][0-9]+", "")', '20260504T000000Z'],
    ['text.replace_all_regex("a.b", "[.]", "$1")', 'a$1b'],
  ])('${%s} = %j (standard library)', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });
});

describe('expression errors', () => {
  it.each<[string, string, RegExp]>([
    ['s + 1', 'TypeError', /\+: unsupported operand types string and integer/],
    ['t and 1', 'TypeError', /and: unsupported/],
    ['not 1', 'TypeError', /not: expected a boolean/],
    ['n / 0', 'ZeroDivisionError', /division by zero/],
    ['m.missing', 'KeyError', /key not found: missing/],
    ['m["missing"]', 'KeyError', /key not found/],
    ['list[3]', 'IndexError', /out of range/],
    ['s.length', 'TypeError', /cannot read key 'length' of a string/],
    ['undefined_variable', 'KeyError', /neither a variable nor a sub-workflow name/],
    ['nothing.body', 'TypeError', /of a null/],
    ['1 < "2"', 'TypeError', /unsupported operand types/],
    ['map.get(m, 1)', 'TypeError', /keys must be a string or a list of strings/],
    ['sys.get_env("UNSET")', 'KeyError', /UNSET is not set/],
    ['time.parse("2024-05-08 12:01")', 'ValueError', /not an RFC 3339 timestamp/],
    ['time.parse("2024-02-30T00:00:00Z")', 'ValueError', /not a valid date/],
    ['time.format(0, "Mars/Olympus")', 'ValueError', /unknown timezone/],
    ['text.replace_all_regex("a", "(?=a)", "")', 'ValueError', /not RE2 syntax/],
    ['default(1)', 'TypeError', /expected 2 argument/],
  ])('${%s} raises %s', (source, tag, message) => {
    let raised: unknown;
    try {
      run(source);
    } catch (error) {
      raised = error;
    }
    expect(raised).toBeInstanceOf(WorkflowRaise);
    const value = (raised as WorkflowRaise).value as { tags: string[]; message: string };
    expect(value.tags).toEqual([tag]);
    expect(value.message).toMatch(message);
  });

  it('evaluates both sides of and/or (no short-circuit to rely on)', () => {
    expect(() => run('f and nothing.body')).toThrow(WorkflowRaise);
    expect(() => run('t or m.missing')).toThrow(/key not found/);
  });

  it.each([
    ['1 +', /unexpected end/],
    ['(1', /expected "\)"/],
    ['"open', /unterminated string/],
    ['a ? b : c', /unexpected character "\?"/],
    ['{a: 1}', /map keys are quoted strings/],
    ['1 2', /unexpected input/],
    ['list[0](1)', /only functions can be called/],
    ['"\\q"', /unknown escape/],
  ])('refuses ${%s} as a syntax error', (source, message) => {
    expect(() => parseExpression(source)).toThrow(ExpressionSyntaxError);
    expect(() => parseExpression(source)).toThrow(message);
  });

  it('lists the variables and functions an expression reads', () => {
    expect(references(parseExpression('default(map.get(args, "x"), y.z[i]) + time.format(t)'))).toEqual({
      variables: new Set(['args', 'y', 'i', 't']),
      functions: new Set(['default', 'map.get', 'time.format']),
    });
  });
});
