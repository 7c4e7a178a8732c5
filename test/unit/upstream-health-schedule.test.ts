// The schedule of upstream probes (workers/smcp/src/tenant/upstream-health.ts): the wait
// after a success is the interval; after n failures in a row it is the interval doubled
// n - 1 times, never past the cap (and a cap set below the interval is the interval).
import { describe, expect, it } from "vitest";
import { nextDelayMs, probeSchedule } from "../../workers/smcp/src/tenant/upstream-health";
import { platformConfig } from "../../packages/runtime/src/config";

describe("upstream probe schedule", () => {
  it("upstream:health — the interval while healthy, doubling per failure in a row up to the cap", () => {
    const s = { intervalMs: 300_000, maxBackoffMs: 3_600_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 1_000].map((n) => nextDelayMs(n, s))).toEqual([300_000, 300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(nextDelayMs(3, { intervalMs: 60_000, maxBackoffMs: 1_000 })).toBe(60_000);
  });

  it("upstream:health platform:config — read from the platform's variables, in seconds", () => {
    expect(probeSchedule(platformConfig({}))).toEqual({ intervalMs: 300_000, maxBackoffMs: 3_600_000, timeoutMs: 10_000 });
    expect(probeSchedule(platformConfig({ SMCP_UPSTREAM_PROBE_INTERVAL_SECONDS: "5", SMCP_UPSTREAM_PROBE_MAX_BACKOFF_SECONDS: "40", SMCP_UPSTREAM_PROBE_TIMEOUT_SECONDS: "2" }))).toEqual({
      intervalMs: 5_000,
      maxBackoffMs: 40_000,
      timeoutMs: 2_000,
    });
    expect(() => platformConfig({ SMCP_UPSTREAM_PROBE_INTERVAL_SECONDS: "0" })).toThrow();
  });
});
