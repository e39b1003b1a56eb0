export interface BackoffPolicy {
  /** Delay before the first retry. */
  baseSeconds: number;
  /** No retry waits longer than this. */
  capSeconds: number;
}

/**
 * The wait before retry number `attempt` (1 after the first failure): exponential, capped, with
 * "full jitter" (a uniform draw from [delay/2, delay]) so that deliveries failed by one outage do not
 * all come back at the same moment. `random` is in [0, 1).
 */
export function retryDelaySeconds(attempt: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const delay = Math.min(policy.capSeconds, policy.baseSeconds * 2 ** exponent);
  return delay / 2 + (delay / 2) * Math.min(Math.max(random, 0), 1);
}
