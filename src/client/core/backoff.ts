export interface BackoffOptions {
  /** Upper bound of the first delay. @default 250 */
  initialMs: number;
  /** Upper bound of any delay. @default 4000 */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 4000 };

/**
 * Exponential backoff with full jitter: a uniform pick in [0, min(max, initial * 2^attempt)],
 * so that the clients of a dead instance spread over the survivors instead of
 * arriving together.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 20));
  return Math.floor(random() * ceiling);
}
