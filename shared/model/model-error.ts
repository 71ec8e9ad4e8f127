/**
 * Errors of the retraining domain, with a stable `code` the HTTP layer maps to a status
 * (shared/http/retrain-errors.ts). Backend failures stay FleetErrors (transient_sink, ...).
 */
export type ModelErrorCode =
  | 'invalid_task'
  | 'invalid_request'
  | 'feature_not_point_in_time'
  | 'invalid_expectations'
  | 'invalid_artifact'
  /** The data interval failed its data-quality expectations: nothing is trained on it. */
  | 'quality_failed'
  /** Too few examples (or one class only) to train or to evaluate. */
  | 'insufficient_data'
  | 'model_not_found'
  | 'no_champion'
  /** Promotion without a passing gate decision for that version. */
  | 'gate_not_passed'
  /** The champion pointer changed since it was read (generation precondition failed). */
  | 'champion_moved'
  | 'run_not_found';

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly metadata: Readonly<Record<string, unknown>>;

  constructor(code: ModelErrorCode, message: string, metadata: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
    this.metadata = metadata;
  }
}
