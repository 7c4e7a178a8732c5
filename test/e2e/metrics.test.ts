// The metrics pipeline as an operator meets it: the official SDK client drives both lanes
// of `wrangler dev`, then Prometheus' own checker (promtool, scripts/lib/promtool.mjs) reads
// both scrapes, and `smcp metrics` shows the same traffic.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helpers shared with the scripts
import { checkMetrics, promtool } from "../../scripts/lib/promtool.mjs";
import { ADMIN_TOKEN, Platform } from "./platform";

const SMCP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/cli/bin/smcp.mjs");
const run = promisify(execFile);
const platform = new Platform();
let tenant: string;
let key: string;

async function scrape(p: string): Promise<string> {
  const res = await fetch(`${platform.url}/admin/v1${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const valueOf = (text: string, prefix: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${prefix} `));
  return line === undefined ? undefined : Number(line.slice(prefix.length + 1));
};

/** Every histogram series: buckets never go down, `+Inf` equals `_count`. */
function checkHistograms(text: string): number {
  const series = new Map<string, number[]>();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const bucket = /^smcp_request_duration_seconds_bucket\{(.*),le="([^"]+)"\} (\d+)$/.exec(line);
    if (bucket) series.set(bucket[1]!, [...(series.get(bucket[1]!) ?? []), Number(bucket[3])]);
    const count = /^smcp_request_duration_seconds_count\{(.*)\} (\d+)$/.exec(line);
    if (count) counts.set(count[1]!, Number(count[2]));
  }
  for (const [labels, values] of series) {
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(values.at(-1)).toBe(counts.get(labels));
  }
  return series.size;
}

beforeAll(async () => {
  promtool(); // the first use may unpack it from Debian's package
  await platform.start();
  ({ tenant, key } = await platform.tenant("metrics-acme"));
}, 240_000);
afterAll(() => platform.dispose());

describe("metrics", () => {
  it("metrics:prometheus metrics:session-rollup metrics:stateless-flush — both lanes' calls reach both scrapes, which promtool accepts", async () => {
    const session = await platform.connect(tenant, "notes", key);
    const stateless = await platform.connect(tenant, "notes", key, { lane: "stateless" });
    for (let i = 0; i < 3; i++) await session.client.callTool({ name: "add_note", arguments: { title: `s${i}`, body: "session lane" } });
    for (let i = 0; i < 2; i++) await stateless.client.callTool({ name: "list_notes", arguments: {} });
    const failed = await session.client.callTool({ name: "delete_note", arguments: { id: "missing" } });
    expect(failed.isError).toBe(true);

    const labels = (tool: string) => `{tenant="${tenant}",server="notes",method="tools/call",tool="${tool}"}`;
    let text = "";
    // The session reports within 5 s (its alarm), the isolate flushes within 5 s.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      text = await scrape(`/tenants/${tenant}/metrics`);
      if (valueOf(text, `smcp_requests_total${labels("add_note")}`) === 3 && valueOf(text, `smcp_requests_total${labels("list_notes")}`) === 2) break;
    }
    expect(valueOf(text, `smcp_requests_total${labels("add_note")}`)).toBe(3);
    expect(valueOf(text, `smcp_requests_total${labels("list_notes")}`)).toBe(2);
    expect(valueOf(text, `smcp_errors_total{tenant="${tenant}",server="notes",method="tools/call",tool="delete_note",kind="tool"}`)).toBe(1);
    expect(valueOf(text, `smcp_sessions{tenant="${tenant}",server="notes"}`)).toBe(1);
    expect(checkHistograms(text)).toBeGreaterThan(0);
    const tenantCheck = checkMetrics(text);
    expect(tenantCheck.output).toBe("");
    expect(tenantCheck.ok).toBe(true);

    const platformText = await scrape("/metrics");
    expect(platformText).toContain(`smcp_requests_total${labels("add_note")} 3`);
    checkHistograms(platformText);
    expect(checkMetrics(platformText)).toEqual({ ok: true, output: "" });

    const series = await (await fetch(`${platform.url}/admin/v1/tenants/${tenant}/servers/notes/series?range=1h`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
    expect(series.points).toHaveLength(60);
    expect(series.points.reduce((t: number, p: { requests: number }) => t + p.requests, 0)).toBeGreaterThanOrEqual(6);
    await session.client.close();
    await stateless.client.close();
  });

  it("metrics:series-api admin:cli — smcp metrics shows the tenant's servers and one server's steps, and --json the series", async () => {
    const env = { ...process.env, SMCP_URL: platform.url, SMCP_ADMIN_TOKEN: ADMIN_TOKEN };
    const summary = await run(process.execPath, [SMCP, "metrics", tenant], { env });
    expect(summary.stdout).toMatch(/^SERVER\s+REQUESTS \(1h\)\s+ERRORS/m);
    expect(summary.stdout).toMatch(/^notes\s+\d+\s+1\s+/m);
    const json = JSON.parse((await run(process.execPath, [SMCP, "metrics", tenant, "--server", "notes", "--range", "24h", "--json"], { env })).stdout);
    expect(json).toMatchObject({ tenant, server: "notes", range: "24h", stepSeconds: 900 });
    expect(json.points).toHaveLength(96);
  });
});
