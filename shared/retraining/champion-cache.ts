import { FleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import { compileScorer } from '../model/model-artifact.js';
import { ModelError } from '../model/model-error.js';
import type { ModelScoring, RiskScorer } from '../ports/model-scoring.js';
import type { ModelRegistry } from './model-registry.js';

export interface ChampionCacheOptions {
  /** How often the champion pointer is re-read (in the background, never on the hot path). */
  refreshMs: number;
  clock: () => number;
  logger: Logger;
}

/**
 * The champion model for scoring, cached per instance. `currentVersion()` answers from memory and,
 * when the last look at `models/champion.json` is older than `refreshMs`, starts one background
 * refresh (a new pointer's model is loaded and compiled before it becomes current). Models are
 * immutable per version, so scorers are kept by version: a retried row is scored with the version
 * recorded when it was first applied.
 */
export class ChampionCache implements ModelScoring {
  readonly #registry: ModelRegistry;
  readonly #options: ChampionCacheOptions;
  readonly #scorers = new Map<string, RiskScorer>();
  #current: string | null = null;
  #checkedAtMs = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;

  constructor(registry: ModelRegistry, options: ChampionCacheOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  currentVersion(): string | null {
    if (this.#options.clock() - this.#checkedAtMs >= this.#options.refreshMs) void this.refresh();
    return this.#current;
  }

  /** Re-reads the pointer now (one refresh at a time); failures keep the current model, logged. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async scorers(versions: readonly string[]): Promise<ReadonlyMap<string, RiskScorer>> {
    const result = new Map<string, RiskScorer>();
    for (const version of new Set(versions)) {
      const scorer = this.#scorers.get(version) ?? (await this.#load(version));
      if (scorer !== null) result.set(version, scorer);
    }
    return result;
  }

  async #refresh(): Promise<void> {
    this.#checkedAtMs = this.#options.clock();
    try {
      const champion = await this.#registry.champion();
      const version = champion?.pointer.version ?? null;
      if (version !== null && !this.#scorers.has(version) && (await this.#load(version)) === null) return;
      if (version !== this.#current) {
        this.#options.logger.info(
          { model_version: version, previous: this.#current },
          'champion model changed',
        );
        this.#current = version;
      }
    } catch (error) {
      this.#options.logger.warn(
        { err: error },
        'could not refresh the champion model; scoring with the one loaded',
      );
    }
  }

  /** A version's scorer, or null when the version does not exist (deleted, never published). */
  async #load(version: string): Promise<RiskScorer | null> {
    let model: Awaited<ReturnType<ModelRegistry['model']>>;
    try {
      model = await this.#registry.model(version);
    } catch (cause) {
      if (cause instanceof ModelError) {
        // Not a usable artifact: retrying will not fix it; its rows go unscored.
        this.#options.logger.error({ err: cause, model_version: version }, 'model artifact is not usable');
        return null;
      }
      throw cause instanceof FleetError
        ? cause
        : new FleetError('transient_sink', `could not load model ${version}`, {
            cause,
            metadata: { version },
          });
    }
    if (model === null) return null;
    const scorer = compileScorer(model);
    this.#scorers.set(version, scorer);
    return scorer;
  }
}
