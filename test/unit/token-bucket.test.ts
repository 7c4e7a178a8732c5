// The tenant's token bucket (packages/runtime/src/token-bucket.ts), on an injected clock.
import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../packages/runtime/src/token-bucket";

describe("TokenBucket", () => {
  it("limits:rate — starts full: one second's worth, and no more", () => {
    const bucket = new TokenBucket(10, 0);
    expect(bucket.take(25, 0)).toEqual({ granted: 10, retryAfterMs: 0 });
    expect(bucket.take(1, 0)).toEqual({ granted: 0, retryAfterMs: 100 });
  });

  it("limits:rate — grants partial batches and whole tokens only", () => {
    const bucket = new TokenBucket(10, 0);
    expect(bucket.take(4, 0)).toEqual({ granted: 4, retryAfterMs: 0 });
    expect(bucket.take(4, 0)).toEqual({ granted: 4, retryAfterMs: 0 });
    expect(bucket.take(4, 0)).toEqual({ granted: 2, retryAfterMs: 0 });
    // 150 ms refill 1.5 tokens: one whole token is granted, half of one stays.
    expect(bucket.take(5, 150)).toEqual({ granted: 1, retryAfterMs: 0 });
    // Half a token left: the next whole one is 50 ms away.
    expect(bucket.take(1, 150)).toEqual({ granted: 0, retryAfterMs: 50 });
    expect(bucket.take(1, 200)).toEqual({ granted: 1, retryAfterMs: 0 });
  });

  it("limits:rate — refills at the rate and caps at one second's worth however long it was idle", () => {
    const bucket = new TokenBucket(5, 1_000);
    expect(bucket.take(5, 1_000).granted).toBe(5);
    expect(bucket.take(5, 1_400)).toEqual({ granted: 2, retryAfterMs: 0 });
    expect(bucket.take(100, 3_600_000).granted).toBe(5);
  });

  it("limits:rate — says how long until a token when empty, rounded up to the millisecond", () => {
    const bucket = new TokenBucket(3, 0);
    bucket.take(3, 0);
    // 1/3 s = 333.33… ms -> 334.
    expect(bucket.take(1, 0)).toEqual({ granted: 0, retryAfterMs: 334 });
    expect(bucket.take(1, 333)).toEqual({ granted: 0, retryAfterMs: 1 });
    expect(bucket.take(1, 334)).toEqual({ granted: 1, retryAfterMs: 0 });
  });

  it("limits:rate — grants nothing for a request of zero or fewer tokens", () => {
    const bucket = new TokenBucket(10, 0);
    expect(bucket.take(0, 0).granted).toBe(0);
    expect(bucket.take(-3, 0).granted).toBe(0);
    expect(bucket.take(10, 0).granted).toBe(10);
  });

  it("limits:rate — a clock that goes backwards takes tokens away rather than minting them", () => {
    const bucket = new TokenBucket(10, 1_000);
    bucket.take(10, 1_000);
    expect(bucket.take(1, 900).granted).toBe(0);
  });
});
