// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Workflows expressions are ${...} in plain strings
// The strict structural check (written from Google's Workflows syntax reference) passes
// workflows/retrain.yaml and refuses broken variants of it, naming the step and the problem: what a
// deploy would refuse (unknown keys, keys that do not go together, jumps nowhere, undefined
// variables, unknown functions, bad retry policies) and what it would silently misread (a string
// holding ${ that is not a whole expression).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WorkflowSyntaxError } from '../../local/workflows/workflow-errors.js';
import { checkWorkflow, checkWorkflowDocument } from '../../local/workflows/workflow-syntax.js';

const RETRAIN = readFileSync(resolve(import.meta.dirname, '../../workflows/retrain.yaml'), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: the document is edited freely, as a person might
type Doc = any;
const steps = (doc: Doc, sub = 'main') => doc[sub].steps as Doc[];
const step = (list: Doc[], name: string): Doc => list.find((s) => Object.keys(s)[0] === name)![name];
const runSteps = (doc: Doc) => step(steps(doc), 'run').try.steps as Doc[];

function problems(mutate: (doc: Doc) => void): string[] {
  const doc = parse(RETRAIN) as Doc;
  mutate(doc);
  try {
    checkWorkflowDocument(doc, 'retrain.yaml');
  } catch (error) {
    if (error instanceof WorkflowSyntaxError)
      return error.problems.map((p) => `${p.step === undefined ? p.path : `step ${p.step}`}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('workflows/retrain.yaml', () => {
  it('passes the structural check, with main and the post_to_function subworkflow', () => {
    const workflow = checkWorkflow(RETRAIN, 'workflows/retrain.yaml');
    expect([...workflow.subworkflows.keys()]).toEqual(['main', 'post_to_function']);
    expect(workflow.subworkflows.get('main')!.params).toEqual([{ name: 'args' }]);
    expect(workflow.subworkflows.get('post_to_function')!.params.map((p) => p.name)).toEqual([
      'base_url',
      'path',
      'body',
    ]);
    const run = workflow.subworkflows.get('main')!.steps.find((s) => s.name === 'run')!;
    expect(run.kind).toBe('try');
    expect(run.blocks.get('try')!.map((s) => s.name)).toContain('train');
  });
});

describe('broken variants are refused, naming the step', () => {
  it.each<[string, (doc: Doc) => void, RegExp]>([
    [
      'an unknown key in a step',
      (doc) => {
        step(steps(doc), 'read_arguments').retry_policy = 'x';
      },
      /step main › read_arguments: unknown key "retry_policy"/,
    ],
    [
      'two kinds in one step',
      (doc) => {
        step(steps(doc), 'read_arguments').call = 'sys.log';
      },
      /step main › read_arguments: a step is one of assign, call, switch, ...; this one has assign and call/,
    ],
    [
      'args without call',
      (doc) => {
        step(steps(doc), 'given_interval').args = { a: 1 };
      },
      /step main › given_interval: args does not go with assign/,
    ],
    [
      'a jump to a step that does not exist',
      (doc) => {
        step(runSteps(doc), 'quality_decision').switch[0].next = 'quality_failure';
      },
      /step main › run › quality_decision: next: quality_failure is not a step at this level or an enclosing one of main/,
    ],
    [
      'a jump into a nested block',
      (doc) => {
        step(steps(doc), 'given_interval').next = 'train';
      },
      /step main › given_interval: next: train is not a step at this level/,
    ],
    [
      'break outside a for loop',
      (doc) => {
        step(steps(doc), 'given_interval').next = 'break';
      },
      /next: break is only allowed inside a for loop/,
    ],
    [
      'a variable that is never assigned',
      (doc) => {
        step(runSteps(doc), 'train').args.body.run_id = '${run_identifier}';
      },
      /step main › run › train: symbol 'run_identifier' is neither a variable nor a sub-workflow name/,
    ],
    [
      'a function Workflows does not have',
      (doc) => {
        step(steps(doc), 'scheduled_interval').assign[0].end_s = '${time.now() // 60 * 60}';
      },
      /step main › scheduled_interval: time.now is not a Workflows standard-library function/,
    ],
    [
      'an expression that does not parse',
      (doc) => {
        step(steps(doc), 'given_interval').assign[0].start_s = '${time.parse(start_arg}';
      },
      /step main › given_interval: expected "\)" at \d+ in \$\{time.parse\(start_arg\}/,
    ],
    [
      'a string with ${ that is not one whole expression',
      (doc) => {
        step(runSteps(doc), 'check_quality').args.path = '/v1/quality?run=${run_id}';
      },
      /holds \$\{ but is not one whole expression/,
    ],
    [
      'a retry policy without max_retries and with an unknown backoff key',
      (doc) => {
        const retry = step(steps(doc), 'look_up_run').retry;
        delete retry.max_retries;
        retry.backoff.jitter = true;
      },
      /max_retries is a whole number[\s\S]*unknown key "jitter" in backoff/,
    ],
    [
      'except without steps',
      (doc) => {
        delete step(steps(doc), 'look_up_run').except.steps;
      },
      /step main › look_up_run: except needs steps/,
    ],
    [
      'try with neither retry nor except',
      (doc) => {
        const lookup = step(steps(doc), 'look_up_run');
        delete lookup.retry;
        delete lookup.except;
      },
      /step main › look_up_run: try needs retry, except or both/,
    ],
    [
      'http.get without url',
      (doc) => {
        delete step(steps(doc), 'look_up_run').try.args.url;
      },
      /step main › look_up_run: http.get needs args with url/,
    ],
    [
      'a body on http.get',
      (doc) => {
        step(steps(doc), 'look_up_run').try.args.body = {};
      },
      /unknown key "body" in http.get/,
    ],
    [
      'OIDC with scopes',
      (doc) => {
        step(steps(doc), 'look_up_run').try.args.auth.scopes = ['x'];
      },
      /scopes go with OAuth2, not OIDC/,
    ],
    [
      'an HTTP timeout over Workflows’ 1800 s',
      (doc) => {
        step(steps(doc, 'post_to_function'), 'post').try.args.timeout = 3600;
      },
      /step post_to_function › post: timeout is a number of seconds, at most 1800/,
    ],
    [
      'sys.log with two payloads and a made-up severity',
      (doc) => {
        Object.assign(step(runSteps(doc), 'log_gate').args, { text: 'x', severity: 'LOUD' });
      },
      /sys.log takes exactly one of data, text and json[\s\S]*severity is one of DEFAULT/,
    ],
    [
      'a switch entry without a condition',
      (doc) => {
        step(runSteps(doc), 'decide').switch.push({ next: 'no_drift' });
      },
      /step main › run › decide: each switch entry is a map with a condition/,
    ],
    [
      'a condition that is a string, not an expression',
      (doc) => {
        step(runSteps(doc), 'decide').switch[0].condition = 'drift.drifted';
      },
      /condition is an expression \$\{...\} or true/,
    ],
    [
      'a step name used twice',
      (doc) => {
        steps(doc).push({ given_interval: { return: 1 } });
      },
      /step main › given_interval: step name "given_interval" is used twice in subworkflow main/,
    ],
    [
      'a call to a subworkflow that does not exist',
      (doc) => {
        step(runSteps(doc), 'train').call = 'post_to_trainer';
      },
      /post_to_trainer is neither a standard-library function, a connector nor a subworkflow/,
    ],
    [
      'main with two parameters',
      (doc) => {
        doc.main.params = ['args', 'more'];
      },
      /main takes at most one parameter/,
    ],
    [
      'a subworkflow key Workflows does not know',
      (doc) => {
        doc.post_to_function.returns = 'map';
      },
      /unknown key "returns" in subworkflow/,
    ],
    [
      'an assignment to something that is not a variable',
      (doc) => {
        step(steps(doc), 'given_interval').assign.push({ 'time.parse(x)': 1 });
      },
      /"time.parse\(x\)" is not a variable, map key or list element to assign/,
    ],
    [
      'a step that is not a one-key map',
      (doc) => {
        steps(doc).push({ a: { return: 1 }, b: { return: 2 } });
      },
      /each step is a map with exactly one key, the step name/,
    ],
  ])('%s', (_what, mutate, expected) => {
    const found = problems(mutate);
    expect(found.join('\n')).toMatch(expected);
  });

  it('reports YAML errors and a document that is not a workflow', () => {
    expect(() => checkWorkflow('main:\n  steps:\n    - a:\n      assign: [', 'x.yaml')).toThrow(
      /x.yaml: .*\(yaml\)/s,
    );
    expect(() => checkWorkflow('main:\n  steps: []\n  steps: []\n', 'x.yaml')).toThrow(
      /Map keys must be unique/,
    );
    expect(() => checkWorkflow('just text', 'x.yaml')).toThrow(/a workflow is a list of steps/);
    expect(() => checkWorkflow('helper:\n  steps:\n    - a:\n        return: 1\n', 'x.yaml')).toThrow(
      /a map of subworkflows needs main/,
    );
  });

  it('accepts the rest of Google’s syntax the runner does not run (for, parallel, connectors)', () => {
    const workflow = checkWorkflow(
      `
main:
  params: [args]
  steps:
    - loop:
        for:
          value: v
          index: i
          range: [1, 3]
          steps:
            - skip_odd:
                switch:
                  - condition: \${v % 2 == 1}
                    next: continue
            - add:
                assign:
                  - total: \${v + i}
    - fan:
        parallel:
          shared: [args]
          branches:
            - a:
                steps:
                  - q:
                      call: googleapis.bigquery.v2.jobs.query
                      args:
                        projectId: p
                      result: r
            - b:
                steps:
                  - wait:
                      call: sys.sleep
                      args:
                        seconds: 1
    - done:
        return: \${args}
`,
      'x.yaml',
    );
    expect(workflow.subworkflows.get('main')!.steps.map((s) => s.kind)).toEqual([
      'for',
      'parallel',
      'return',
    ]);
  });
});
