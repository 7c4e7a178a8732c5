// The dashboard chart's pure half (workers/smcp/src/dashboard/chart.ts `model`), run in
// Node on a series shaped as the series API answers one: each line's points carry the
// series' timestamps and the values the picture shows, quiet minutes are gaps, and the
// coordinates stay inside the plot.
import { describe, expect, it } from "vitest";
import { CHART_SCRIPT } from "../../workers/smcp/src/dashboard/chart";

type Point = { t: string; requests: number; errors: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
type Model = {
  yMax: number;
  width: number;
  height: number;
  pad: { left: number; right: number; top: number; bottom: number };
  lines: { name: string; points: { t: string; v: number | null; x: number; y: number | null }[] }[];
};
const charts = new Function(`${CHART_SCRIPT}\nreturn SmcpCharts;`)() as { model(series: unknown, metric: string): Model; metrics: string[] };

/** An hour as the series API shapes it: 60 one-minute steps, oldest first, every step present. */
function hour(): { tenant: string; server: string; range: string; stepSeconds: number; points: Point[] } {
  const start = Date.parse("2026-12-02T05:00:00Z");
  const points = Array.from({ length: 60 }, (_, i): Point => {
    const quiet = i % 10 === 3;
    return {
      t: new Date(start + i * 60_000).toISOString(),
      requests: quiet ? 0 : 10 + i,
      errors: quiet ? 0 : i % 4,
      p50Ms: quiet ? null : 5 + i,
      p95Ms: quiet ? null : 20 + i,
      p99Ms: quiet ? null : 40 + 2 * i,
    };
  });
  return { tenant: "acme", server: "notes", range: "1h", stepSeconds: 60, points };
}

describe("dashboard chart model", () => {
  it("dashboard:charts — request rate is requests per minute of each step, error rate a percentage, latency three lines with gaps", () => {
    const series = hour();
    const requests = charts.model(series, "requests");
    expect(requests.lines.map((l) => l.name)).toEqual(["requests"]);
    expect(requests.lines[0]!.points.map((p) => [p.t, p.v])).toEqual(series.points.map((p) => [p.t, p.requests]));

    const day = { ...series, range: "24h", stepSeconds: 900 };
    expect(charts.model(day, "requests").lines[0]!.points.map((p) => p.v)).toEqual(series.points.map((p) => (p.requests * 60) / 900));

    const errors = charts.model(series, "errors").lines[0]!.points;
    expect(errors.map((p) => p.v)).toEqual(series.points.map((p) => (p.requests ? (100 * p.errors) / p.requests : 0)));

    const latency = charts.model(series, "latency");
    expect(latency.lines.map((l) => l.name)).toEqual(["p50", "p95", "p99"]);
    expect(latency.lines[2]!.points.map((p) => p.v)).toEqual(series.points.map((p) => p.p99Ms));
    const gap = latency.lines[0]!.points[3]!;
    expect(gap).toMatchObject({ v: null, y: null });
    // The axis is a round number above the largest value: p99 tops out at 40 + 2 * 59 = 158.
    expect(latency.yMax).toBe(200);
  });

  it("dashboard:charts — points run left to right, oldest first, inside the plot; the largest sits nearest the top", () => {
    const m = charts.model(hour(), "latency");
    const xs = m.lines[0]!.points.map((p) => p.x);
    expect(xs[0]).toBe(m.pad.left);
    expect(xs.at(-1)).toBe(m.width - m.pad.right);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    const ys = m.lines.flatMap((l) => l.points.map((p) => p.y)).filter((y): y is number => y !== null);
    for (const y of ys) {
      expect(y).toBeGreaterThanOrEqual(m.pad.top);
      expect(y).toBeLessThanOrEqual(m.height - m.pad.bottom);
    }
    const p99 = m.lines[2]!.points;
    expect(p99.at(-1)!.y).toBe(Math.min(...ys));
  });

  it("dashboard:charts — an empty or idle series draws a flat axis from 0 to 1, and an unknown metric is refused", () => {
    const idle = { ...hour(), points: hour().points.map((p) => ({ ...p, requests: 0, errors: 0, p50Ms: null, p95Ms: null, p99Ms: null })) };
    expect(charts.model(idle, "requests").yMax).toBe(1);
    expect(charts.model(idle, "latency").lines.every((l) => l.points.every((p) => p.v === null))).toBe(true);
    expect(charts.model({ range: "1h", stepSeconds: 60, points: [] }, "errors").lines[0]!.points).toEqual([]);
    expect(() => charts.model(hour(), "bytes")).toThrow("unknown metric");
    expect(charts.metrics).toEqual(["requests", "latency", "errors"]);
  });
});
