// `smcp top`'s arithmetic (packages/cli/src/commands/top.mjs `topRow`) on a series shaped
// as the series API answers one: rates over the last five steps, latency of the newest
// step with traffic, and nothing invented when the platform has no series.
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { topRow } from "../../packages/cli/src/commands/top.mjs";

const step = (i: number, requests: number, errors: number, p50: number | null) => ({
  t: new Date(Date.parse("2026-12-02T05:00:00Z") + i * 60_000).toISOString(),
  requests,
  errors,
  p50Ms: p50,
  p95Ms: p50 === null ? null : p50 * 2,
  p99Ms: p50 === null ? null : p50 * 3,
});

describe("smcp top", () => {
  it("dashboard:top — requests per minute and error rate over the last five steps; latency of the newest step that had traffic", () => {
    const points = [step(0, 1000, 1000, 1), ...Array.from({ length: 4 }, (_, i) => step(i + 1, 10, 1, 7)), step(5, 20, 0, 9), step(6, 0, 0, null)];
    const row = topRow("notes", { stepSeconds: 60, points }, 3);
    // Steps 2..6: 10 + 10 + 10 + 20 + 0 requests in 5 minutes; 3 errors.
    expect(row).toEqual({ server: "notes", sessions: 3, requestsPerMinute: 10, errorRate: 0.06, p50Ms: 9, p95Ms: 18, p99Ms: 27 });
    const day = topRow("notes", { stepSeconds: 900, points: [step(0, 150, 0, 2)] }, 0);
    expect(day.requestsPerMinute).toBe(10);
  });

  it("dashboard:top — an idle server reads zero, and without a series API only sessions are known", () => {
    expect(topRow("idle", { stepSeconds: 60, points: [step(0, 0, 0, null)] }, 0)).toEqual({ server: "idle", sessions: 0, requestsPerMinute: 0, errorRate: 0, p50Ms: null, p95Ms: null, p99Ms: null });
    expect(topRow("old", null, 2)).toEqual({ server: "old", sessions: 2, requestsPerMinute: null, errorRate: null, p50Ms: null, p95Ms: null, p99Ms: null });
  });
});
