// Executions of the deployed retraining workflow, through the Workflow Executions API client
// (@google-cloud/workflows, Application Default Credentials): start one with an argument, wait for
// it to finish, answer its result or error. What `npm run retrain -- --cloud` uses.

import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutionsClient } from '@google-cloud/workflows';
import type { RetrainArguments } from '../../shared/schedules/timetable.js';
import type { WorkflowValue } from '../workflows/workflow-errors.js';
import type { ExecutionOutcome, RetrainExecutor } from './retrain-runs.js';

type Client = Pick<ExecutionsClient, 'createExecution' | 'getExecution' | 'workflowPath'>;

const STATES = ['STATE_UNSPECIFIED', 'ACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'UNAVAILABLE', 'QUEUED'];
const RUNNING = new Set(['STATE_UNSPECIFIED', 'ACTIVE', 'QUEUED']);

export class CloudRetrainExecutor implements RetrainExecutor {
  readonly where = 'cloud';
  readonly #client: Client;

  constructor(
    readonly target: { projectId: string; location: string; workflow: string },
    options: { client?: Client; pollMs?: number; onStarted?: (name: string) => void } = {},
  ) {
    this.#client = options.client ?? new ExecutionsClient();
    this.pollMs = options.pollMs ?? 2000;
    this.onStarted = options.onStarted;
  }

  readonly pollMs: number;
  readonly onStarted: ((name: string) => void) | undefined;

  async execute(args: RetrainArguments): Promise<ExecutionOutcome> {
    const parent = this.#client.workflowPath(
      this.target.projectId,
      this.target.location,
      this.target.workflow,
    );
    const [created] = await this.#client.createExecution({
      parent,
      execution: { argument: JSON.stringify(args), callLogLevel: 'LOG_ERRORS_ONLY' },
    });
    const name = created.name!;
    this.onStarted?.(name);
    for (;;) {
      const [execution] = await this.#client.getExecution({ name });
      const state = typeof execution.state === 'number' ? STATES[execution.state]! : String(execution.state);
      if (RUNNING.has(state)) {
        await sleep(this.pollMs);
        continue;
      }
      const executionId = name.split('/').at(-1)!;
      if (state === 'SUCCEEDED')
        return { executionId, state, result: JSON.parse(execution.result ?? 'null') as WorkflowValue };
      return {
        executionId,
        state: state === 'CANCELLED' ? 'CANCELLED' : 'FAILED',
        error: parsePayload(execution.error?.payload ?? execution.stateError?.details ?? state),
      };
    }
  }
}

function parsePayload(payload: string): WorkflowValue {
  try {
    return JSON.parse(payload) as WorkflowValue;
  } catch {
    return payload;
  }
}
