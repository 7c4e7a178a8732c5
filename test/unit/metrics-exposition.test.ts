// The pure parts of the metrics pipeline (workers/smcp/src/metrics/): bucket choice and
// percentile estimates, the bounded delta, and the Prometheus exposition, whose output is
// checked by promtool (Prometheus' own parser; scripts/lib/promtool.mjs), which must also
// refuse a malformed variant of it.
import { beforeAll, describe, expect, it } from "vitest";
import { checkMetrics, promtool } from "../../scripts/lib/promtool.mjs";
import { BUCKETS, BUCKET_BOUNDS_MS, bucketIndex, quantileMs } from "../../workers/smcp/src/metrics/histogram";
import { MAX_MINUTES, MAX_SERIES_PER_MINUTE, MINUTE_MS, OTHER_TOOL, isDelta, merge, record, requestsIn, type MetricsDelta } from "../../workers/smcp/src/metrics/delta";
import { kindOfHttpStatus, kindOfRpcError } from "../../workers/smcp/src/metrics/error-kinds";
import { escapeLabelValue, histogramSeries, render } from "../../workers/smcp/src/metrics/exposition";
import { familiesOf } from "../../workers/smcp/src/metrics/families";
import type { MetricsSnapshot } from "../../workers/smcp/src/tenant/metrics";

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE_MS);

function snapshot(tools: string[]): MetricsSnapshot {
  return {
    series: tools.map((tool, i) => ({
      server: "notes",
      method: "tools/call",
      tool,
      requests: 10 + i,
      errors: [1, 2, 0, 0, 0, 0, 0],
      buckets: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10 + i - 10],
      sumMs: 123.5,
    })),
    truncated: false,
    gauges: [{ server: "notes", sessions: 2, eventBytes: 4096, instances: 0 }],
    upstreams: [{ server: "remote", up: true, latencyMs: 42 }],
  };
}

describe("metrics histogram", () => {
  it("metrics:histogram — a duration goes in the first bucket whose bound it does not exceed; above the last, +Inf", () => {
    expect(BUCKETS).toBe(BUCKET_BOUNDS_MS.length + 1);
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(1.01)).toBe(1);
    expect(bucketIndex(10)).toBe(3);
    expect(bucketIndex(10_000)).toBe(BUCKET_BOUNDS_MS.length - 1);
    expect(bucketIndex(10_001)).toBe(BUCKET_BOUNDS_MS.length);
  });

  it("metrics:histogram — percentiles interpolate inside the bucket that holds the rank, as histogram_quantile does", () => {
    const counts = new Array(BUCKETS).fill(0);
    expect(quantileMs(counts, 0.5)).toBeNull();
    counts[3] = 100; // (5, 10]
    expect(quantileMs(counts, 0.5)).toBe(7.5);
    expect(quantileMs(counts, 0.99)).toBe(9.95);
    counts[0] = 100; // [0, 1]
    expect(quantileMs(counts, 0.25)).toBe(0.5);
    expect(quantileMs(counts, 0.75)).toBe(7.5);
    const slow = new Array(BUCKETS).fill(0);
    slow[BUCKETS - 1] = 5;
    expect(quantileMs(slow, 0.5)).toBe(10_000);
  });

  it("metrics:error-kinds — kinds come from codes, statuses and the kind of server, never from text", () => {
    expect(kindOfRpcError(-32601, "upstream")).toBe("protocol");
    expect(kindOfRpcError(-32603, "upstream")).toBe("upstream");
    expect(kindOfRpcError(-32603, "deployed")).toBe("sandbox");
    expect(kindOfRpcError(-32001, "built-in")).toBe("internal");
    expect(kindOfHttpStatus(401)).toBe("auth");
    expect(kindOfHttpStatus(403)).toBe("auth");
    expect(kindOfHttpStatus(429)).toBe("limit");
    expect(kindOfHttpStatus(413)).toBe("limit");
    expect(kindOfHttpStatus(406)).toBe("protocol");
    expect(kindOfHttpStatus(502, "upstream")).toBe("upstream");
  });
});

describe("metrics delta", () => {
  it("metrics:bounded — tools past the per-minute cap count as _other, methods outside the list as other, old minutes go", () => {
    const delta: MetricsDelta = {};
    for (let i = 0; i < MAX_SERIES_PER_MINUTE + 10; i++) record(delta, T0, "tools/call", `tool-${i}`, null, 3);
    record(delta, T0, "x".repeat(500), "y".repeat(500), "protocol", 1);
    const minute = delta[String(T0)]!;
    expect(Object.keys(minute).length).toBeLessThanOrEqual(MAX_SERIES_PER_MINUTE + 2);
    expect(minute[`tools/call\t${OTHER_TOOL}`]!.n).toBe(10);
    expect(minute[`other\t${OTHER_TOOL}`]!.e[0]).toBe(1);
    expect(requestsIn(delta)).toBe(MAX_SERIES_PER_MINUTE + 11);
    for (let m = 1; m <= MAX_MINUTES + 5; m++) record(delta, T0 + m * MINUTE_MS, "ping", null, null, 1);
    expect(Object.keys(delta)).toHaveLength(MAX_MINUTES);
    expect(delta[String(T0)]).toBeUndefined();
    expect(isDelta(delta)).toBe(true);
  });

  it("metrics:bounded — merging adds cell by cell; the tenant refuses a delta of the wrong shape", () => {
    const a: MetricsDelta = {};
    const b: MetricsDelta = {};
    record(a, T0, "tools/call", "add", null, 4);
    record(b, T0, "tools/call", "add", "tool", 40);
    merge(a, b);
    expect(a[String(T0)]!["tools/call\tadd"]).toMatchObject({ n: 2, s: 44 });
    expect(a[String(T0)]!["tools/call\tadd"]!.e[1]).toBe(1);
    expect(isDelta(a)).toBe(true);
    expect(isDelta({ [String(T0 + 1)]: {} })).toBe(false);
    expect(isDelta({ [String(T0)]: { "tools/call\tadd": { n: -1, e: [], h: [], s: 0 } } })).toBe(false);
    expect(isDelta({ [String(T0)]: { "made/up\tadd": a[String(T0)]!["tools/call\tadd"] } })).toBe(false);
    expect(isDelta([])).toBe(false);
  });
});

describe("metrics exposition", () => {
  // The first use may unpack promtool from Debian's package (a download): not a test's time.
  beforeAll(() => void promtool(), 180_000);

  it("metrics:prometheus — label values escape backslash, quote and newline", () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it("metrics:prometheus — histogram buckets are cumulative, end with +Inf equal to _count, and _sum is in seconds", () => {
    const { lines } = histogramSeries("h", [["tool", "t"]], [1, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4], 2500);
    expect(lines[0]).toBe('h_bucket{tool="t",le="0.001"} 1');
    expect(lines[1]).toBe('h_bucket{tool="t",le="0.002"} 3');
    expect(lines[3]).toBe('h_bucket{tool="t",le="0.01"} 6');
    expect(lines[13]).toBe('h_bucket{tool="t",le="+Inf"} 10');
    expect(lines.slice(-2)).toEqual(['h_sum{tool="t"} 2.5', 'h_count{tool="t"} 10']);
  });

  it("metrics:prometheus — promtool accepts the exposition, tenant-chosen names included, and refuses it once a label is left unescaped", () => {
    const weird = 'we"ird\\tool\nname';
    const text = render(familiesOf([{ tenant: "acme", snapshot: snapshot(["add_note", weird]) }, { tenant: "beta", snapshot: snapshot(["x"]) }]), 10_000);
    const checked = checkMetrics(text);
    expect(checked.output).toBe("");
    expect(checked.ok).toBe(true);
    expect(text).toContain("smcp_scrape_truncated 0");
    // The same output with one value written raw: Prometheus' parser must refuse it.
    const broken = text.replace(escapeLabelValue(weird), weird);
    expect(broken).not.toBe(text);
    expect(checkMetrics(broken).ok).toBe(false);
    expect(checkMetrics(text.replace("smcp_sessions{", "smcp_sessions{tenant=acme,")).ok).toBe(false);
  });

  it("metrics:prometheus — a scrape over its series cap keeps whole histograms, says it was cut, and still parses", () => {
    const tools = Array.from({ length: 50 }, (_, i) => `tool_${i}`);
    const text = render(familiesOf([{ tenant: "acme", snapshot: snapshot(tools) }]), 200);
    const samples = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(samples.length).toBeLessThanOrEqual(201);
    expect(text).toContain("# truncated: this scrape shows at most 200 samples");
    expect(text).toContain("smcp_scrape_truncated 1");
    const buckets = samples.filter((l) => l.startsWith("smcp_request_duration_seconds_bucket")).length;
    const counts = samples.filter((l) => l.startsWith("smcp_request_duration_seconds_count")).length;
    expect(buckets).toBe(counts * BUCKETS);
    expect(checkMetrics(text).ok).toBe(true);
  });
});
