/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most `capacity` (one
 * second's worth unless told). Pure and clock-injected so the tenant's rate limiter,
 * the OAuth limits (N per window: rate N/window, capacity N) and their tests share it.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly ratePerSecond: number,
    now: number,
    readonly capacity: number = ratePerSecond,
  ) {
    this.#tokens = capacity;
    this.#at = now;
  }

  /** Takes up to `want` whole tokens; when none is left, says how long until one is. */
  take(want: number, now: number): { granted: number; retryAfterMs: number } {
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond);
    this.#at = now;
    const granted = Math.max(0, Math.min(want, Math.floor(this.#tokens)));
    this.#tokens -= granted;
    const retryAfterMs = granted > 0 ? 0 : Math.ceil(((1 - this.#tokens) / this.ratePerSecond) * 1000);
    return { granted, retryAfterMs };
  }
}
