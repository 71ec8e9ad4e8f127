/** The risk of a feature row (or an online vector) under one model, in [0, 1]. */
export type RiskScorer = (row: Readonly<Record<string, unknown>>) => number;

/** The promoted model, as the feature function and the online API score with it. */
export interface ModelScoring {
  /** The champion's version to score new rows with now; null while there is none. Never blocks. */
  currentVersion(): string | null;
  /** Scorers for these versions, loading the ones not cached; rejects (transient) if storage fails. */
  scorers(versions: readonly string[]): Promise<ReadonlyMap<string, RiskScorer>>;
}
