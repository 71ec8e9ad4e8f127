// `npm run retrain -- --cloud`: an execution of the deployed workflow through the Workflow
// Executions API client, with the argument retrain.yaml takes, waited for until it finishes; its
// result or its error map answered as the local runner answers them. The client is a stand-in
// with the API's request and answer shapes (no Google Cloud here).

import { describe, expect, it } from 'vitest';
import { CloudRetrainExecutor } from '../../local/retraining/cloud-executions.js';

type Execution = { name?: string; state?: string | number; result?: string; error?: { payload?: string } };

function fakeClient(states: Execution[]) {
  const created: { parent: string; execution: { argument: string; callLogLevel: string } }[] = [];
  let polls = 0;
  const client = {
    workflowPath: (project: string, location: string, workflow: string) =>
      `projects/${project}/locations/${location}/workflows/${workflow}`,
    createExecution: async (request: (typeof created)[number]) => {
      created.push(request);
      return [{ name: `${request.parent}/executions/exec-42`, state: 'ACTIVE' }];
    },
    getExecution: async ({ name }: { name: string }) => [
      { name, ...states[Math.min(polls++, states.length - 1)] },
    ],
  };
  return { client: client as never, created, polls: () => polls };
}

const target = { projectId: 'fleet-prod', location: 'europe-west1', workflow: 'retrain' };
const args = {
  schedule: 'daily-retrain',
  force: true,
  data_interval_start: '2026-05-03T22:00:00.000Z',
  data_interval_end: '2026-05-04T22:00:00.000Z',
};

describe('CloudRetrainExecutor', () => {
  it('starts an execution with the argument as JSON and waits for its result', async () => {
    const fake = fakeClient([
      { state: 'QUEUED' },
      { state: 'ACTIVE' },
      { state: 'SUCCEEDED', result: JSON.stringify({ run_id: 'daily-retrain-x', status: 'promoted' }) },
    ]);
    const started: string[] = [];
    const executor = new CloudRetrainExecutor(target, {
      client: fake.client,
      pollMs: 1,
      onStarted: (n) => started.push(n),
    });
    const outcome = await executor.execute(args);
    expect(fake.created).toEqual([
      {
        parent: 'projects/fleet-prod/locations/europe-west1/workflows/retrain',
        execution: { argument: JSON.stringify(args), callLogLevel: 'LOG_ERRORS_ONLY' },
      },
    ]);
    expect(started).toEqual([
      'projects/fleet-prod/locations/europe-west1/workflows/retrain/executions/exec-42',
    ]);
    expect(fake.polls()).toBe(3);
    expect(outcome).toEqual({
      executionId: 'exec-42',
      state: 'SUCCEEDED',
      result: { run_id: 'daily-retrain-x', status: 'promoted' },
    });
  });

  it('answers a failed execution’s error map (the state as a number, as gRPC may send it)', async () => {
    const payload = { tags: ['HttpError'], code: 500, message: 'HTTP server responded with error code 500' };
    const fake = fakeClient([{ state: 3, error: { payload: JSON.stringify(payload) } }]);
    const outcome = await new CloudRetrainExecutor(target, { client: fake.client, pollMs: 1 }).execute(args);
    expect(outcome).toEqual({ executionId: 'exec-42', state: 'FAILED', error: payload });
  });
});
