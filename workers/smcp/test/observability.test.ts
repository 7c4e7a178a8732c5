/**
 * What admins see: the request log of a session, the tenant's hash-chained audit log
 * (append-only, tampering detected), platform health summed from the tenants, and the
 * Worker's access log (src/access-log.ts).
 */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import type { TenantDO } from "../src/tenant-do";
import { RequestLog } from "../src/mcp/request-log";
import { ORIGIN, adminOk, callTool, captureConsole, mcpFetch, mcpUrl, openSession, provisionTenant, request, rpc, send, sessionStub, tenantObject } from "./helpers";

describe("request log", () => {
  it("admin:sessions — lists each call with method, tool, outcome and duration", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "add_note", { title: "logged", body: "x" });
    await send(session, rpc("no/such/method"));
    await request(session, "tools/list");

    const { requests } = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}/requests`);
    const rows = requests.map((r: any) => [r.method, r.tool, r.status]);
    expect(rows).toEqual([
      ["initialize", null, "ok"],
      ["tools/call", "add_note", "ok"],
      ["no/such/method", null, "error"],
      ["tools/list", null, "ok"],
    ]);
    expect(requests[2].error).toContain("-32601");
    for (const r of requests) expect(Number.isInteger(r.durationMs) && r.durationMs >= 0, JSON.stringify(r)).toBe(true);

    const page = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}/requests?after=${requests[1].seq}&limit=1`);
    expect(page.requests.map((r: any) => r.method)).toEqual(["no/such/method"]);
    expect(page.next).toBe(requests[2].seq);
  });

  it("admin:sessions platform:observability — rows and totals wait in memory and are written as one batch, in order, bounded to the newest 1000", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const stub = sessionStub(tenant, "notes", session.sessionId);
    const stored = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const count = () => sql.exec<{ n: number }>("SELECT count(*) AS n FROM requests").one().n;
      const log = new RequestLog(sql, state.storage.kv);
      const before = count();
      const answer = (i: number) => {
        log.received({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: `t'${i}"` } });
        log.sent(i % 2 ? { jsonrpc: "2.0", id: i, result: {} } : { jsonrpc: "2.0", id: i, error: { code: -32602, message: `bad "${i}"` } });
      };
      for (let i = 0; i < 10; i++) answer(i);
      const waiting = { rows: count() - before, totals: state.storage.kv.get<{ requests: number }>("requestCounts")?.requests ?? 0 };
      log.flush();
      const written = { rows: count() - before, totals: state.storage.kv.get<{ requests: number; errors: number }>("requestCounts") };
      const first = log.page(0, 1000).slice(-10).map((r) => [r.rpcId, r.tool, r.status, r.error]);
      for (let i = 10; i < 1100; i++) answer(i);
      log.flush();
      const rows = log.page(0, 2000);
      return { waiting, written, first, kept: rows.length, newest: rows.at(-1)?.rpcId, ordered: rows.every((r, i) => i === 0 || r.seq > rows[i - 1]!.seq) };
    });
    expect(stored.waiting.rows).toBe(0);
    expect(stored.written.rows).toBe(10);
    expect(stored.written.totals).toMatchObject({ requests: stored.waiting.totals + 10, errors: 5 });
    expect(stored.first[0]).toEqual(["0", `t'0"`, "error", `-32602 bad "0"`]);
    expect(stored.first[9]).toEqual(["9", `t'9"`, "ok", null]);
    expect(stored.kept).toBeGreaterThanOrEqual(1000);
    expect(stored.kept).toBeLessThanOrEqual(1100);
    expect(stored.newest).toBe("1099");
    expect(stored.ordered).toBe(true);
  });
});

describe("audit log", () => {
  it("admin:audit — admin actions and auth events are recorded in order, chained, and verify", async () => {
    const { tenant, key, keyId } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    // Revoking the key also ends its open session.
    await adminOk("DELETE", `/tenants/${tenant}/keys/${keyId}`);
    expect((await adminOk("GET", `/tenants/${tenant}/sessions`)).sessions).toEqual([]);
    void session;

    const { entries } = await adminOk("GET", `/tenants/${tenant}/audit`);
    expect(entries.map((e: any) => e.action)).toEqual([
      "tenant.created",
      "server.enabled",
      "key.created",
      "session.created",
      "key.revoked",
      "session.ended",
    ]);
    expect(entries[3].actor).toBe(`key:${keyId}`);
    expect(JSON.stringify(entries)).not.toContain(key!);
    for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).toBe(entries[i - 1].hash);
    expect(await adminOk("GET", `/tenants/${tenant}/audit/verify`)).toMatchObject({ ok: true, entries: entries.length, from: 1 });
  });

  it("admin:audit platform:stranger-writes — a refused key is counted in an auth.failed entry, without the key or the server", async () => {
    const { tenant } = await provisionTenant({ servers: ["notes"] });
    const wrong = `smcp_sk_not-a-real-key-${"0".repeat(28)}`;
    const res = await mcpFetch(mcpUrl(tenant, "notes"), { key: wrong, body: rpc("tools/list") });
    expect(res.status).toBe(401);
    // Failures are aggregated: the row is written when the window closes (the alarm).
    expect(await runDurableObjectAlarm(tenantObject(tenant))).toBe(true);
    const { entries } = await adminOk("GET", `/tenants/${tenant}/audit`);
    expect(entries.at(-1)).toMatchObject({ actor: "anonymous", action: "auth.failed", target: "invalid-key", detail: { reason: "invalid-key", count: 1 } });
    expect(JSON.stringify(entries)).not.toContain(wrong);
    expect(JSON.stringify(entries.at(-1))).not.toContain("notes");
  });

  it("admin:audit — SQLite refuses to change or delete an entry", async () => {
    const { tenant } = await provisionTenant({ servers: [] });
    await runInDurableObject(tenantObject(tenant), async (_instance: TenantDO, state) => {
      expect(() => state.storage.sql.exec("UPDATE audit SET actor = 'mallory' WHERE seq = 1")).toThrow(/append-only/);
      expect(() => state.storage.sql.exec("DELETE FROM audit")).toThrow(/append-only/);
    });
  });

  it("admin:audit — tampering with a stored entry is detected at that entry", async () => {
    const { tenant } = await provisionTenant({ servers: ["notes", "everything"] });
    await runInDurableObject(tenantObject(tenant), async (_instance: TenantDO, state) => {
      // An attacker with raw database access could drop the guard first; the chain still tells.
      state.storage.sql.exec("DROP TRIGGER audit_is_append_only_update");
      state.storage.sql.exec("UPDATE audit SET detail = '{\"forged\":true}' WHERE seq = 2");
    });
    const verdict = await adminOk("GET", `/tenants/${tenant}/audit/verify`);
    expect(verdict).toMatchObject({ ok: false, brokenAt: 2 });
  });
});

describe("platform health", () => {
  it("admin:health — sessions by tenant and server, requests and error rate, event-log bytes", async () => {
    const { tenant, key } = await provisionTenant();
    const notes = await openSession(mcpUrl(tenant, "notes"), key);
    await openSession(mcpUrl(tenant, "everything"), key);
    await callTool(notes, "add_note", { title: "h", body: "h" });

    const health = await adminOk("GET", "/health");
    expect(health.ok).toBe(true);
    expect(health.sessions.byTenant[tenant]).toBe(2);
    expect(health.alarms).toMatchObject({ runs: expect.any(Number), failures: expect.any(Number), lagMsMax: expect.any(Number) });

    expect(health.requests.errorRate).toBe(health.requests.total ? health.requests.errors / health.requests.total : 0);
    expect(health.eventLog.bytes).toEqual(expect.any(Number));

    // The figures sum every tenant's and other tests share this workerd: compare deltas.
    // One more notes session moves the notes figure by exactly one and nothing else.
    const third = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(third, "list_notes");
    const after = await adminOk("GET", "/health");
    expect(after.sessions.byTenant[tenant]).toBe(3);
    expect(after.sessions.byServer.notes - health.sessions.byServer.notes).toBe(1);
    expect(after.sessions.byServer.everything - health.sessions.byServer.everything).toBe(0);
    expect(after.sessions.total - health.sessions.total).toBe(1);
  });
});

describe("access log", () => {
  /** Every console line written while a test runs; `requestLines()` are the Worker's `"msg":"request"` ones. */
  let lines: string[] = [];
  beforeEach(() => {
    lines = captureConsole();
  });
  const requestLines = () =>
    lines.flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return parsed.msg === "request" ? [parsed] : [];
      } catch {
        return []; // not one of the Worker's JSON lines
      }
    });
  afterEach(() => vi.restoreAllMocks());

  it("platform:observability — a refused request gets one JSON line with its trace id; one that succeeded gets a line only with SMCP_ACCESS_LOG=all", async () => {
    const { tenant } = await provisionTenant();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const refused = await mcpFetch(mcpUrl(tenant, "notes"), { key: "smcp_wrong", body: rpc("ping"), headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(refused.status).toBe(401);
    await refused.body?.cancel();
    expect(requestLines()).toEqual([expect.objectContaining({ level: "info", method: "POST", tenant, server: "notes", status: 401, traceId })]);
    expect(Number.isInteger(requestLines()[0]!.durationMs)).toBe(true);

    lines.length = 0;
    const ok = await SELF.fetch(`${ORIGIN}/healthz`);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    expect(requestLines()).toEqual([]);

    // The Worker's own fetch with the variable set, as `pnpm dev` runs it.
    const all = await worker.fetch(new Request(`${ORIGIN}/healthz`), { ...env, SMCP_ACCESS_LOG: "all" } as typeof env);
    expect(all.status).toBe(200);
    await all.body?.cancel();
    expect(requestLines()).toEqual([expect.objectContaining({ method: "GET", path: "/healthz", status: 200 })]);
  });
});
