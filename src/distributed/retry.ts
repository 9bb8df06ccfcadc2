// How a role retries Redis: the number of connection attempts before it gives up, the doubling
// waits between them (what ioredis' retryStrategy returns), and the error that ends the role.

export interface RetryPolicy {
  /** Consecutive failed connection attempts before giving up (≥ 1). */
  maxAttempts: number;
  /** Delay before retry k (1-based): min(maxDelayMs, baseDelayMs·2^(k−1)). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 250, maxDelayMs: 5000 };

export function retryDelayMs(p: RetryPolicy, attempt: number): number {
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
}

/** The total time a policy waits before giving up (for messages and docs). */
export function retryBudgetMs(p: RetryPolicy): number {
  let total = 0;
  for (let k = 1; k < p.maxAttempts; k++) total += retryDelayMs(p, k);
  return total;
}

/** "250 ms", "2.0 s": for messages about waits. */
export function formatDelay(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Redis could not be reached within the retry policy, or refused our credentials (exit code 1). */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
  /** `retriesSpent`: the policy ran out (false: credentials refused, which are not retried). */
  constructor(message: string, readonly retriesSpent: boolean) {
    super(message);
  }
}
