// What a client address counts as for the OAuth limits (workers/smcp/src/oauth/abuse-limits.ts):
// an IPv4 address itself, an IPv6 address its /64, however it is spelled; anything else none.
import { describe, expect, it } from "vitest";
import { addressKey } from "../../workers/smcp/src/oauth/abuse-limits";
import { TokenBucket } from "../../packages/runtime/src/token-bucket";

describe("addressKey", () => {
  it("platform:oauth-abuse — keeps an IPv4 address, and the IPv4 inside an IPv4-mapped IPv6 address", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("platform:oauth-abuse — reduces an IPv6 address to its /64, whatever the spelling", () => {
    const key = "2001:db8:0:1::/64";
    expect(addressKey("2001:db8:0:1::1")).toBe(key);
    expect(addressKey("2001:0DB8:0000:0001:ffff:ffff:ffff:ffff")).toBe(key);
    expect(addressKey("2001:db8::1:0:0:0:5")).toBe(key);
    expect(addressKey("2001:db8:0:2::1")).not.toBe(key);
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });

  it("platform:oauth-abuse — refuses what is no address", () => {
    for (const bad of ["", "localhost", "1:2:3:4:5:6:7:8:9", "1::2::3", "2001:db8::g", "1.2.3.4, 5.6.7.8", "a".repeat(60)]) {
      expect(addressKey(bad), bad).toBeNull();
    }
  });
});

describe("TokenBucket with a capacity", () => {
  it("platform:oauth-abuse — holds N per window: N at once, then one more per window/N", () => {
    const bucket = new TokenBucket(3 / 60, 0, 3);
    expect([1, 2, 3, 4].map(() => bucket.take(1, 0).granted)).toEqual([1, 1, 1, 0]);
    expect(bucket.take(1, 0).retryAfterMs).toBe(20_000);
    expect(bucket.take(1, 20_000).granted).toBe(1);
    // Never more than the capacity, however long it rests.
    expect(bucket.take(10, 10_000_000).granted).toBe(3);
  });
});
