// Errors of the local Workflows runner. Two kinds never meet: a WorkflowRaise is an error *inside* an
// execution (Workflows' error map, catchable with try/except, what an uncaught execution fails
// with); the others say the file cannot run here at all (not Workflows syntax, or syntax this
// runner does not implement) and name the step.

export type WorkflowValue = null | boolean | number | string | WorkflowValue[] | WorkflowMap;
export interface WorkflowMap {
  [key: string]: WorkflowValue;
}

export function isWorkflowMap(value: unknown): value is WorkflowMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An error raised during an execution: a map such as `{tags: ["HttpError"], code: 503, message,
 * headers, body}`, or whatever a `raise` step raised (a string or a map), as Workflows hands it to
 * `except: as: e`.
 */
export class WorkflowRaise extends Error {
  readonly code = 'workflow_raise';

  constructor(readonly value: WorkflowValue) {
    super(describeRaised(value));
    this.name = 'WorkflowRaise';
  }
}

/** The error maps the Workflows runtime raises: `{tags: [tag], message}` plus details. */
export function workflowError(tag: string, message: string, details: WorkflowMap = {}): WorkflowRaise {
  return new WorkflowRaise({ message, tags: [tag], ...details });
}

function describeRaised(value: WorkflowValue): string {
  if (typeof value === 'string') return value;
  if (isWorkflowMap(value)) {
    const tags = Array.isArray(value.tags) ? `${value.tags.join(', ')}: ` : '';
    const code = value.code === undefined ? '' : ` (code ${JSON.stringify(value.code)})`;
    return `${tags}${typeof value.message === 'string' ? value.message : JSON.stringify(value)}${code}`;
  }
  return JSON.stringify(value);
}

export interface SyntaxProblem {
  /** Where, as a path into the document: `main.steps[2].run.try.steps[0].check_quality.call`. */
  path: string;
  /** The step the problem is in, as `subworkflow › step › nested step`, when there is one. */
  step?: string;
  message: string;
}

/** The document is not Cloud Workflows syntax (what a deploy would refuse). */
export class WorkflowSyntaxError extends Error {
  readonly code = 'workflow_syntax';

  constructor(
    readonly file: string,
    readonly problems: readonly SyntaxProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem(s) with Cloud Workflows syntax:\n` +
        problems
          .map((p) => `  - ${p.step === undefined ? p.path : `step ${p.step}`}: ${p.message}`)
          .join('\n'),
    );
    this.name = 'WorkflowSyntaxError';
  }
}

/** Valid Workflows syntax that the local runner does not implement (it runs only what our files use). */
export class UnsupportedSyntaxError extends Error {
  readonly code = 'workflow_unsupported';

  constructor(
    readonly file: string,
    /** `subworkflow › step`. */
    readonly step: string,
    readonly construct: string,
  ) {
    super(
      `${file}: step ${step}: ${construct} is valid Cloud Workflows syntax but the local runner does not implement it ` +
        '(it runs exactly the subset workflows/*.yaml use; see local/workflows/README.md)',
    );
    this.name = 'UnsupportedSyntaxError';
  }
}
