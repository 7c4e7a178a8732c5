// The bench's report (bench/lib/report.mjs) from figures as a run records them: a reading
// that came out negative (an RSS difference taken while the allocator gave memory back)
// gets no ratio and no verdict, instead of a ratio below zero that reads as "met".
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM module of the bench
import { figureRows, verdicts } from "../../bench/lib/report.mjs";

const footprint = (rssBytesPerSession: number, sqliteBytesPerSession: number) => ({
  sessions: 200,
  rssBytesPerSession,
  jsHeapBytesPerSession: 1024,
  sqliteBytesPerSession,
  sqliteFiles: 200,
  eventLogBytesPerSession: null,
});

function idleRss(floorRss: number, smcpRss: number) {
  const results = { floor: { footprint: footprint(floorRss, 16384) }, floorRuns: [], smcp: { footprint: footprint(smcpRss, 24576) } };
  const rows = figureRows(results, { connections: 8, kinds: ["add", "echo"] });
  const memory = rows.find((r: { id?: string }) => r.id === "memory");
  const verdict = verdicts(rows).find((v: { target: string }) => v.target.startsWith("idle session RSS"));
  return { ratio: memory.ratios.floor, verdict };
}

describe("bench report", () => {
  it("bench:ratios — the idle session's RSS over a bare object's, met within 1.3x", () => {
    expect(idleRss(400 * 1024, 480 * 1024)).toMatchObject({ ratio: { value: 1.2 }, verdict: { met: true, detail: "1.20× (480.0 KB against 400.0 KB)" } });
    expect(idleRss(400 * 1024, 1040 * 1024).verdict).toMatchObject({ met: false, detail: "2.60× (1040.0 KB against 400.0 KB)" });
  });

  it("bench:ratios — a negative reading (the full run of 2026-12-03 read -118.7 KB for the bare object) gets no ratio and is not met", () => {
    const { ratio, verdict } = idleRss(-121589.76, 407982.08);
    expect(ratio).toBeUndefined();
    expect(verdict.met).toBe(false);
    expect(verdict.detail).toMatch(/^not measured: 398\.4 KB against -118\.7 KB/);
    expect(idleRss(400 * 1024, -5 * 1024).ratio).toBeUndefined();
  });
});
