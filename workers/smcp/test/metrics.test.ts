/**
 * The metrics pipeline end to end inside workerd (issue 16, items 1 and 2): real sessions
 * and stateless requests through the Worker, their counts reaching the tenant's minute
 * rows (with the session's report: the session's alarm runs it here, instead of the test
 * waiting 5 s for it), then read back through the series API and the Prometheus scrape.
 * The exposition's syntax is checked by promtool in test/unit/metrics-exposition.test.ts
 * and test/e2e/metrics.test.ts; here its content.
 */
import { SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { record, type MetricsDelta } from "../src/metrics/delta";
import { MetricsRollup, RETENTION_MS } from "../src/tenant/metrics-rollup";
import { METRICS_PRUNE_KEY } from "../src/tenant/metrics";
import type { TenantDO } from "../src/tenant-do";
import {
  ADMIN_TOKEN,
  ORIGIN,
  admin,
  adminOk,
  SESSION_REVISION,
  callTool,
  initializeParams,
  mcpFetch,
  mcpUrl,
  openSession,
  provisionTenant,
  request,
  rpc,
  sessionStub,
  statelessTool,
  storageOf,
  tenantObject,
  flushReports,
} from "./helpers";

const MINUTE = 60_000;

async function scrape(path: string): Promise<string> {
  const res = await SELF.fetch(`${ORIGIN}/admin/v1${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return res.text();
}

/** The value of the sample line that starts with `prefix` (name and labels, as written). */
function valueOf(text: string, prefix: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${prefix} `));
  return line === undefined ? undefined : Number(line.slice(prefix.length + 1));
}

const series = (tenant: string, server: string, range: string) => adminOk("GET", `/tenants/${tenant}/servers/${server}/series?range=${range}`);

describe("metrics", () => {
  it("metrics:session-rollup — a session's calls, a tool error and a protocol error reach the minute rows with its report, in the state it already writes", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "met", servers: ["notes"] });
    const url = mcpUrl(tenant, "notes");
    const session = await openSession(url, key);
    const keysBefore = (await storageOf(sessionStub(tenant, "notes", session.sessionId))).kvKeys;
    await callTool(session, "add_note", { title: "a", body: "b" });
    await callTool(session, "add_note", { title: "c", body: "d" });
    // A tool that ran and failed: an isError result.
    expect((await callTool(session, "delete_note", { id: "no-such-note" })).isError).toBe(true);
    // The client's mistake: an unknown method.
    expect((await request(session, "no/such-method")).error.code).toBe(-32601);
    // Nothing new is stored per request: the counts ride in `requestCounts`, which the request log writes anyway.
    expect((await storageOf(sessionStub(tenant, "notes", session.sessionId))).kvKeys).toEqual(keysBefore);

    expect(await runDurableObjectAlarm(sessionStub(tenant, "notes", session.sessionId))).toBe(true);
    // The report went to the session's report shard; its flush (5 s later) brings it to the tenant.
    await flushReports(tenant);

    const hour = await series(tenant, "notes", "1h");
    const total = hour.points.reduce((t: number, p: { requests: number }) => t + p.requests, 0);
    // initialize, two add_note, delete_note, the unknown method.
    expect(total).toBe(5);
    expect(hour.points.reduce((t: number, p: { errors: number }) => t + p.errors, 0)).toBe(2);
    const busy = hour.points.filter((p: { requests: number }) => p.requests > 0);
    for (const p of busy) expect(p.p50Ms).not.toBeNull();

    const text = await scrape(`/tenants/${tenant}/metrics`);
    const labels = (method: string, tool: string) => `{tenant="${tenant}",server="notes",method="${method}",tool="${tool}"}`;
    expect(valueOf(text, `smcp_requests_total${labels("tools/call", "add_note")}`)).toBe(2);
    expect(valueOf(text, `smcp_requests_total${labels("tools/call", "delete_note")}`)).toBe(1);
    expect(valueOf(text, `smcp_errors_total{tenant="${tenant}",server="notes",method="tools/call",tool="delete_note",kind="tool"}`)).toBe(1);
    expect(valueOf(text, `smcp_errors_total{tenant="${tenant}",server="notes",method="other",tool="",kind="protocol"}`)).toBe(1);
    expect(valueOf(text, `smcp_request_duration_seconds_count${labels("tools/call", "add_note")}`)).toBe(2);
    expect(valueOf(text, `smcp_request_duration_seconds_bucket{tenant="${tenant}",server="notes",method="tools/call",tool="add_note",le="+Inf"}`)).toBe(2);
    expect(valueOf(text, `smcp_sessions{tenant="${tenant}",server="notes"}`)).toBe(1);
    expect(valueOf(text, `smcp_event_log_bytes{tenant="${tenant}",server="notes"}`)).toBeGreaterThan(0);
    // The gauges' sample of this minute, written with the report.
    const sample = await runInDurableObject(tenantObject(tenant), (_i: TenantDO, state) =>
      state.storage.sql.exec<{ sessions: number; event_bytes: number }>("SELECT sessions, event_bytes FROM metrics_gauges WHERE server = 'notes' ORDER BY minute DESC LIMIT 1").one(),
    );
    expect(sample.sessions).toBe(1);
    expect(sample.event_bytes).toBeGreaterThan(0);

    // A report applied again (its acknowledgement lost) adds nothing: the session resends nothing it was told is in.
    expect(await runDurableObjectAlarm(sessionStub(tenant, "notes", session.sessionId))).toBe(true);
    // The report went to the session's report shard; its flush (5 s later) brings it to the tenant.
    await flushReports(tenant);
    expect(valueOf(await scrape(`/tenants/${tenant}/metrics`), `smcp_requests_total${labels("tools/call", "add_note")}`)).toBe(2);
  });

  it("metrics:session-rollup — the counts of a session that ends arrive with its final report", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "metend", servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "list_notes", {});
    const res = await SELF.fetch(mcpUrl(tenant, "notes"), { method: "DELETE", headers: { authorization: `Bearer ${key}`, "mcp-session-id": session.sessionId, "mcp-protocol-version": session.protocolVersion } });
    expect(res.status).toBe(200);
    const text = await scrape(`/tenants/${tenant}/metrics`);
    expect(valueOf(text, `smcp_requests_total{tenant="${tenant}",server="notes",method="tools/call",tool="list_notes"}`)).toBe(1);
    expect(valueOf(text, `smcp_sessions{tenant="${tenant}",server="notes"}`)).toBeUndefined();
  });

  it("metrics:stateless-flush metrics:error-kinds — stateless calls and the Worker's refusals of authenticated callers are counted in the isolate and flushed in one batch", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "metsl", servers: ["notes"] });
    const url = mcpUrl(tenant, "notes");
    for (let i = 0; i < 3; i++) await statelessTool(url, key, "list_notes", {});
    // A session refused at its start has no session object to count it: the Worker does (kind limit).
    await adminOk("PATCH", `/tenants/${tenant}`, { limits: { maxSessions: 1 } });
    await openSession(url, key);
    const refused = await mcpFetch(url, { key, body: rpc("initialize", initializeParams(SESSION_REVISION)) });
    expect(refused.status).toBe(429);
    await refused.body?.cancel();
    // A wrong key is counted nowhere here (the tenant's auth-failure tally has it): a stranger's request reaches no object.
    const denied = await mcpFetch(url, { key: "smcp_sk_not-a-real-key-at-all-000000000000000000000", body: rpc("ping") });
    expect(denied.status).toBe(401);
    await denied.body?.cancel();
    // Before the flush is due the tenant holds nothing of them.
    expect((await series(tenant, "notes", "1h")).points.every((p: { requests: number }) => p.requests === 0)).toBe(true);
    let count: number | undefined;
    for (let i = 0; i < 80 && count === undefined; i++) {
      await new Promise((r) => setTimeout(r, 125));
      count = valueOf(await scrape(`/tenants/${tenant}/metrics`), `smcp_requests_total{tenant="${tenant}",server="notes",method="tools/call",tool="list_notes"}`);
    }
    expect(count).toBe(3);
    let text = "";
    for (let i = 0; i < 80; i++) {
      text = await scrape(`/tenants/${tenant}/metrics`);
      if (text.includes('kind="limit"')) break;
      await new Promise((r) => setTimeout(r, 125));
    }
    expect(valueOf(text, `smcp_errors_total{tenant="${tenant}",server="notes",method="initialize",tool="",kind="limit"}`)).toBe(1);
    expect(text).not.toContain('kind="auth"');
  });

  it("metrics:prometheus — tenant-chosen names are escaped, and one tenant's scrape holds nothing of another's", async () => {
    const a = await provisionTenant({ prefix: "metesc", servers: ["notes"] });
    const b = await provisionTenant({ prefix: "metother", servers: ["notes"] });
    const session = await openSession(mcpUrl(a.tenant, "notes"), a.key);
    const weird = 'we"ird\\name\nx';
    await request(session, "tools/call", { name: weird, arguments: {} });
    expect(await runDurableObjectAlarm(sessionStub(a.tenant, "notes", session.sessionId))).toBe(true);
    // The report went to the session's report shard; its flush (5 s later) brings it to the tenant.
    await flushReports(a.tenant);
    const text = await scrape(`/tenants/${a.tenant}/metrics`);
    expect(text).toContain(`tool="we\\"ird\\\\name\\nx"`);
    expect(text.split("\n").some((l) => l.startsWith("x") || l.includes('ird\\name\n'))).toBe(false);
    const other = await scrape(`/tenants/${b.tenant}/metrics`);
    expect(other).not.toContain(a.tenant);
    const platform = await scrape("/metrics");
    expect(platform).toContain(`tenant="${a.tenant}"`);
    expect(platform).toContain("# TYPE smcp_request_duration_seconds histogram");
  });

  it("metrics:series-api — a day of seeded rollups: 96 steps of 15 minutes, every step present, percentiles from the buckets; older minutes pruned", async () => {
    const { tenant } = await provisionTenant({ prefix: "metday", servers: ["notes"] });
    const now = Date.now();
    const stub = tenantObject(tenant);
    await runInDurableObject(stub, (_i: TenantDO, state) => {
      const rollup = new MetricsRollup(state.storage.sql);
      const delta: MetricsDelta = {};
      // One request of 10 ms every 10 minutes over the last 26 hours, and 100 of 7 ms (one error) a minute ago.
      for (let t = now - 26 * 60 * MINUTE; t <= now - 2 * MINUTE; t += 10 * MINUTE) {
        const d: MetricsDelta = {};
        record(d, t, "tools/call", "add_note", null, 10);
        rollup.fold("notes", d, now);
      }
      for (let i = 0; i < 100; i++) record(delta, now - MINUTE, "tools/call", "add_note", i === 0 ? "tool" : null, 7);
      rollup.fold("notes", delta, now);
    });

    const day = await series(tenant, "notes", "24h");
    expect(day).toMatchObject({ tenant, server: "notes", range: "24h", stepSeconds: 900 });
    expect(day.points).toHaveLength(96);
    const times = day.points.map((p: { t: string }) => Date.parse(p.t));
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(900_000);
    expect(times[95]).toBe(now - (now % 900_000));
    for (const p of day.points) expect(new Date(Date.parse(p.t)).toISOString()).toBe(p.t);
    const last = day.points.find((p: { t: string }) => Date.parse(p.t) <= now - MINUTE && now - MINUTE < Date.parse(p.t) + 900_000);
    expect(last.errors).toBe(1);
    expect(last.requests).toBeGreaterThanOrEqual(100);

    const hour = await series(tenant, "notes", "1h");
    expect(hour.stepSeconds).toBe(60);
    expect(hour.points).toHaveLength(60);
    const minute = hour.points.find((p: { t: string }) => Date.parse(p.t) === now - MINUTE - ((now - MINUTE) % MINUTE));
    // 100 requests in the (5, 10] ms bucket: the estimate interpolates inside it.
    expect(minute).toMatchObject({ requests: 100, errors: 1, p50Ms: 7.5, p95Ms: 9.75, p99Ms: 9.95 });
    const idle = hour.points.filter((p: { requests: number }) => p.requests === 0);
    expect(idle.length).toBeGreaterThan(40);
    for (const p of idle) expect(p).toMatchObject({ errors: 0, p50Ms: null, p95Ms: null, p99Ms: null });

    const oldest = () =>
      runInDurableObject(stub, (_i: TenantDO, state) => state.storage.sql.exec<{ m: number }>("SELECT min(minute) AS m FROM metrics_minutes").one().m);
    expect(await oldest()).toBeLessThan(now - RETENTION_MS);
    await runInDurableObject(stub, async (_i: TenantDO, state) => {
      state.storage.kv.put(METRICS_PRUNE_KEY, now - 1);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await oldest()).toBeGreaterThanOrEqual(now - (now % MINUTE) - RETENTION_MS);
    // Rows are left, so the next prune is armed.
    const next = await runInDurableObject(stub, (_i: TenantDO, state) => state.storage.kv.get<number>(METRICS_PRUNE_KEY));
    expect(next).toBeGreaterThan(now);
  });

  it("metrics:series-api — bad ranges are refused, an unknown tenant is 404, and a tenant admin key cannot read the platform scrape", async () => {
    const { tenant } = await provisionTenant({ prefix: "metbad", servers: ["notes"] });
    const bad = await admin("GET", `/tenants/${tenant}/servers/notes/series?range=7d`);
    expect(bad.status).toBe(400);
    expect((await bad.json<any>()).error.code).toBe("invalid_range");
    expect((await admin("GET", `/tenants/no-such-tenant-x/servers/notes/series?range=1h`)).status).toBe(404);
    expect((await admin("GET", `/tenants/no-such-tenant-x/metrics`)).status).toBe(404);
    const adminKey = await adminOk("POST", `/tenants/${tenant}/admin-keys`, { label: "ops" }, 201);
    expect((await admin("GET", "/metrics", undefined, adminKey.key)).status).toBe(403);
    expect((await admin("GET", `/tenants/${tenant}/metrics`, undefined, adminKey.key)).status).toBe(200);
  });
});
