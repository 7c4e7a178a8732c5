// The throttle of `limit.hit` audit entries (workers/smcp/src/tenant/limit-audit.ts),
// under a controlled clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LimitAudit } from "../../workers/smcp/src/tenant/limit-audit";

describe("LimitAudit", () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it("platform:stranger-writes limits:rate — one limit.hit entry per kind per 10 s, however often the limit is hit", async () => {
    const entries: unknown[][] = [];
    const limits = new LimitAudit(async (...entry) => void entries.push(entry));
    for (let i = 0; i < 50; i++) await limits.hit("requests", { limit: 5 });
    await limits.hit("sessions", { limit: 2 });
    expect(entries).toEqual([
      ["platform", "limit.hit", "requests", { limit: 5 }],
      ["platform", "limit.hit", "sessions", { limit: 2 }],
    ]);
    vi.setSystemTime(1_000_000 + 9_999);
    await limits.hit("requests", { limit: 5 });
    expect(entries).toHaveLength(2);
    vi.setSystemTime(1_000_000 + 10_000);
    await limits.hit("requests", { limit: 6 });
    expect(entries).toHaveLength(3);
    expect(entries[2]).toEqual(["platform", "limit.hit", "requests", { limit: 6 }]);
  });
});
