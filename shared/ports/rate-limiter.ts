/** What a rate limiter decided for one request. */
export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until the request's cost is available (ms, > 0). 0 when allowed. */
  retryAfterMs: number;
  /** Whole tokens left after this request. */
  remaining: number;
}

/**
 * A token bucket per key (Redis in production): `cost` tokens are taken atomically or not at all.
 * Rejects (a transient failure) when the store is unreachable: callers fail closed.
 */
export interface RateLimiter {
  take(key: string, cost: number): Promise<RateDecision>;
}
