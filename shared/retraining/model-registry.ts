import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { type ModelArtifact, parseModelArtifact } from '../model/model-artifact.js';
import { ModelError } from '../model/model-error.js';
import { isModelVersion } from '../model/model-version.js';
import type { DriftBaseline, HoldoutSnapshot, ModelMetrics, TrainedModel } from '../model/trainer.js';
import type { VersionedObjectStore } from '../ports/versioned-object-store.js';

/**
 * The model registry, in a bucket (see shared/model/README.md):
 *
 *   models/{version}/metrics.json, baseline.json, holdout.json.gz, then model.json last (a version
 *                    exists once its model.json does); every file written once, never replaced
 *   models/champion.json             the pointer, swapped only with a generation precondition
 *   models/decisions/{version}/…     every gate, promote and rollback decision with its reasons
 *   models/runs/{run_id}.json        the record of a retraining run (the workflow writes it)
 */
export const CHAMPION_OBJECT = 'models/champion.json';
const HISTORY_LIMIT = 20;

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const ChampionPointerSchema = z.object({
  version: z.string().refine(isModelVersion),
  promoted_at: z.string(),
  /** The decision that set this pointer (a retried write recognises itself by it). */
  decision_id: z.string(),
  /** Earlier champions, newest first: what a rollback goes back to. */
  history: z.array(z.string().refine(isModelVersion)).default([]),
});
export type ChampionPointer = z.infer<typeof ChampionPointerSchema>;

export interface Champion {
  pointer: ChampionPointer;
  generation: string;
}

export type DecisionKind = 'gate' | 'promote' | 'rollback';

export interface Decision {
  decision_id: string;
  kind: DecisionKind;
  /** The version decided about (gate, promote) or made champion (rollback). */
  version: string;
  at: string;
  reasons: string[];
  [detail: string]: unknown;
}

export interface RunRecord {
  run_id: string;
  status: string;
  details: unknown;
  recorded_at: string;
}

const JSON_TYPE = 'application/json';

export class ModelRegistry {
  readonly #store: VersionedObjectStore;

  constructor(store: VersionedObjectStore) {
    this.#store = store;
  }

  get bucket(): string {
    return this.#store.bucket;
  }

  objectUrl(name: string): string {
    return `gs://${this.#store.bucket}/${name}`;
  }

  /**
   * Writes a trained model's files, model.json last. 'exists' when the version is already there
   * (a retried run): nothing is replaced.
   */
  async publish(trained: TrainedModel): Promise<'created' | 'exists'> {
    const { version } = trained.artifact;
    const dir = versionDir(version);
    if ((await this.#store.read(`${dir}model.json`)) !== null) return 'exists';
    await this.#writeOnce(`${dir}metrics.json`, json(trained.metrics), JSON_TYPE);
    await this.#writeOnce(`${dir}baseline.json`, json(trained.baseline, false), JSON_TYPE);
    await this.#writeOnce(
      `${dir}holdout.json.gz`,
      gzipSync(json(trained.holdout, false)),
      'application/gzip',
    );
    return (await this.#writeOnce(`${dir}model.json`, json(trained.artifact), JSON_TYPE))
      ? 'created'
      : 'exists';
  }

  async model(version: string): Promise<ModelArtifact | null> {
    const body = await this.#readVersionFile(version, 'model.json');
    return body === null ? null : parseModelArtifact(JSON.parse(body.toString('utf8')));
  }

  /** Like model(), but a missing version is a model_not_found error. */
  async requireModel(version: string): Promise<ModelArtifact> {
    const model = await this.model(version);
    if (model === null)
      throw new ModelError('model_not_found', `no model ${version} in ${this.objectUrl('models/')}`, {
        version,
      });
    return model;
  }

  async metrics(version: string): Promise<ModelMetrics | null> {
    const body = await this.#readVersionFile(version, 'metrics.json');
    return body === null ? null : (JSON.parse(body.toString('utf8')) as ModelMetrics);
  }

  async baseline(version: string): Promise<DriftBaseline | null> {
    const body = await this.#readVersionFile(version, 'baseline.json');
    return body === null ? null : (JSON.parse(body.toString('utf8')) as DriftBaseline);
  }

  async holdout(version: string): Promise<HoldoutSnapshot | null> {
    const body = await this.#readVersionFile(version, 'holdout.json.gz');
    return body === null ? null : (JSON.parse(gunzipSync(body).toString('utf8')) as HoldoutSnapshot);
  }

  /** Every published version (those with a model.json), oldest data interval first. */
  async versions(): Promise<string[]> {
    const names = await this.#store.list('models/v');
    return names
      .map((name) => /^models\/([^/]+)\/model\.json$/.exec(name)?.[1])
      .filter((v): v is string => v !== undefined && isModelVersion(v));
  }

  async champion(): Promise<Champion | null> {
    const object = await this.#store.read(CHAMPION_OBJECT);
    if (object === null) return null;
    const parsed = ChampionPointerSchema.safeParse(JSON.parse(object.body.toString('utf8')));
    if (!parsed.success)
      throw new ModelError(
        'invalid_artifact',
        `${this.objectUrl(CHAMPION_OBJECT)} is not a champion pointer`,
      );
    return { pointer: parsed.data, generation: object.generation };
  }

  /**
   * Sets the champion pointer if its generation is still `ifGeneration` ('0': no pointer yet).
   * 'moved' when another writer changed it first. A write whose response was lost and whose client
   * retry then met its own generation is recognised by the decision id and counts as swapped.
   */
  async swapChampion(
    next: { version: string; decisionId: string; history: readonly string[] },
    ifGeneration: string,
    now: Date,
  ): Promise<{ swapped: true; champion: Champion } | { swapped: false; current: Champion | null }> {
    const pointer: ChampionPointer = {
      version: next.version,
      promoted_at: now.toISOString(),
      decision_id: next.decisionId,
      history: next.history.filter((v) => v !== next.version).slice(0, HISTORY_LIMIT),
    };
    const result = await this.#store.write(CHAMPION_OBJECT, json(pointer), {
      contentType: JSON_TYPE,
      ifGeneration,
    });
    if (result.written) return { swapped: true, champion: { pointer, generation: result.generation } };
    const current = await this.champion();
    if (current?.pointer.decision_id === next.decisionId) return { swapped: true, champion: current };
    return { swapped: false, current };
  }

  async recordDecision(
    decision: {
      kind: DecisionKind;
      version: string;
      at: string;
      reasons: string[];
      decision_id?: string;
    } & Record<string, unknown>,
  ): Promise<Decision> {
    const record: Decision = {
      ...decision,
      decision_id: decision.decision_id ?? newDecisionId(decision.kind, new Date(decision.at)),
    };
    await this.#writeOnce(
      `models/decisions/${record.version}/${record.decision_id}.json`,
      json(record),
      JSON_TYPE,
    );
    return record;
  }

  /** Decisions about a version, oldest first. */
  async decisions(version: string): Promise<Decision[]> {
    if (!isModelVersion(version)) return [];
    const names = await this.#store.list(`models/decisions/${version}/`);
    const decisions: Decision[] = [];
    for (const name of names) {
      const object = await this.#store.read(name);
      if (object !== null) decisions.push(JSON.parse(object.body.toString('utf8')) as Decision);
    }
    return decisions;
  }

  async writeRun(record: RunRecord): Promise<string> {
    const name = runObject(record.run_id);
    await this.#store.write(name, json(record), { contentType: JSON_TYPE });
    return this.objectUrl(name);
  }

  async readRun(runId: string): Promise<RunRecord | null> {
    const object = await this.#store.read(runObject(runId));
    return object === null ? null : (JSON.parse(object.body.toString('utf8')) as RunRecord);
  }

  async #readVersionFile(version: string, file: string): Promise<Buffer | null> {
    if (!isModelVersion(version)) return null;
    return (await this.#store.read(`${versionDir(version)}${file}`))?.body ?? null;
  }

  async #writeOnce(name: string, body: Buffer, contentType: string): Promise<boolean> {
    return (await this.#store.write(name, body, { contentType, ifGeneration: '0' })).written;
  }
}

function versionDir(version: string): string {
  if (!isModelVersion(version))
    throw new ModelError('invalid_request', `not a model version: ${version.slice(0, 80)}`);
  return `models/${version}/`;
}

function runObject(runId: string): string {
  if (!RUN_ID_PATTERN.test(runId))
    throw new ModelError('invalid_request', `not a run id: ${runId.slice(0, 140)}`);
  return `models/runs/${runId}.json`;
}

/** Sorts by time: `20261214T100000.123Z-gate-1a2b3c`. */
function newDecisionId(kind: DecisionKind, at: Date): string {
  const stamp = at.toISOString().replaceAll(/[-:]/g, '');
  return `${stamp}-${kind}-${randomBytes(3).toString('hex')}`;
}

const json = (value: unknown, pretty = true) =>
  Buffer.from(`${JSON.stringify(value, null, pretty ? 1 : 0)}\n`);
