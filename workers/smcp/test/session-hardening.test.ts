/**
 * Issue 10, items 5, 6, 7 and 9: what a client sends is bounded before it is stored; a
 * session ends once, at one commit point; the tenant's session index holds no ghosts and
 * its counters survive evictions; creating a session re-checks the credential.
 */
import { fromSessionAnswer } from "../src/mcp/session-answer";
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { tenantStub } from "../src/env";
import { REQUEST_LOG_SCHEMA, RequestLog } from "../src/mcp/request-log";
import {
  EMPTY_STORAGE,
  SseReader,
  adminOk,
  callTool,
  expectRpcError,
  initializeParams,
  listSessions,
  mcpFetch,
  mcpUrl,
  notification,
  openSession,
  provisionTenant,
  rpc,
  send,
  sessionStub,
  storageOf,
  type Session,
  flushReports,
} from "./helpers";

const TTL_MS = 1800 * 1000; // SMCP_SESSION_TTL_SECONDS in wrangler.jsonc
const setLimits = (tenant: string, limits: Record<string, number>) => adminOk("PATCH", `/tenants/${tenant}`, { limits });

async function auditEntries(tenant: string): Promise<{ action: string; target: string; detail: Record<string, unknown> }[]> {
  return (await adminOk("GET", `/tenants/${tenant}/audit?limit=500`)).entries;
}

/** Rows and bytes a tenant's session index and audit log hold. */
function tenantFootprint(tenant: string): Promise<{ sessions: number; sessionBytes: number; audit: number; auditBytes: number }> {
  return runInDurableObject(tenantStub(env, tenant), (_instance, state) => {
    const s = state.storage.sql.exec<{ n: number; b: number | null }>("SELECT count(*) AS n, sum(length(client_info)) AS b FROM sessions").one();
    const a = state.storage.sql.exec<{ n: number; b: number | null }>("SELECT count(*) AS n, sum(length(detail)) AS b FROM audit").one();
    return { sessions: s.n, sessionBytes: s.b ?? 0, audit: a.n, auditBytes: a.b ?? 0 };
  });
}

/** Makes a session look idle past its TTL, as the alarm will see it after a reload. */
async function ageSession(session: Session, tenant: string, server = "notes"): Promise<DurableObjectStub> {
  const stub = sessionStub(tenant, server, session.sessionId);
  await runInDurableObject(stub, (_instance, state) => {
    const meta = state.storage.kv.get<{ lastActivity: number }>("meta")!;
    state.storage.kv.put("meta", { ...meta, lastActivity: Date.now() - TTL_MS - 60_000 });
  });
  await evictDurableObject(stub);
  return stub;
}

/** The two states a session may be in after a race: fully alive, or fully gone. */
async function expectAliveOrGone(tenant: string, session: Session, answered: number): Promise<"alive" | "gone"> {
  const stub = sessionStub(tenant, "notes", session.sessionId);
  const storage = await storageOf(stub);
  const indexed = (await listSessions(tenant)).some((s) => s.id === session.sessionId);
  if (answered === 200) {
    expect(storage.kvKeys).toContain("meta");
    expect(storage.kvKeys).not.toContain("ended");
    expect(storage.alarm).not.toBeNull();
    expect(indexed).toBe(true);
    await callTool(session, "list_notes");
    return "alive";
  }
  expect(answered).toBe(404);
  expect(storage).toEqual(EMPTY_STORAGE);
  expect(indexed).toBe(false);
  await expectRpcError(await send(session, rpc("ping")), 404, -32001);
  return "gone";
}

/** A session object that lost its storage without telling the tenant (what a failed end used to leave). */
async function loseStorage(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, async (_instance, state) => {
    await state.storage.deleteAlarm();
    await state.storage.deleteAll();
  });
  await evictDurableObject(stub);
}

describe("item 5: what a client sends is bounded before anything stores it", () => {
  it("platform:client-bounds — an oversized clientInfo is refused with -32602 and stores nothing in the index or audit log", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const before = await tenantFootprint(tenant);
    // As large as the test body limit (16 KB) allows; the 200 KB fails the same check.
    const huge = "n".repeat(15_000);
    const cases = [
      { name: huge, version: "1" },
      { name: "ok", version: "v".repeat(257) },
      { name: "ok", version: "1", title: "t".repeat(257) },
      { name: "ok", version: "1", websiteUrl: `https://x.example/${"p".repeat(4200)}` },
    ];
    for (const clientInfo of cases) {
      const res = await mcpFetch(mcpUrl(tenant, "notes"), { key, body: rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo }) });
      const error = await expectRpcError(res, 400, -32602);
      expect(error.message).toMatch(/clientInfo(\.\w+)? is \d+ (characters|bytes)/);
      expect(res.headers.get("mcp-session-id")).toBeNull();
    }
    expect(await tenantFootprint(tenant)).toEqual(before);

    // A 256-character name is accepted, and it is all the audit detail keeps.
    const fine = await mcpFetch(mcpUrl(tenant, "notes"), {
      key,
      body: rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "n".repeat(256), version: "1" } }),
    });
    expect(fine.status).toBe(200);
    await fine.body?.cancel();
    const after = await tenantFootprint(tenant);
    expect(after.sessions).toBe(1);
    expect(after.audit).toBe(before.audit + 1);
  });

  it("platform:client-bounds — the session object refuses oversized params itself and stays empty", async () => {
    const { tenant, keyId } = await provisionTenant({ servers: ["notes"] });
    const sessionId = "A".repeat(32);
    const stub = sessionStub(tenant, "notes", sessionId);
    const res = fromSessionAnswer(await stub.serve(
      new Request(`https://smcp.test/mcp/${tenant}/notes`, {
        method: "POST",
        headers: { Accept: "application/json, text/event-stream", "Content-Type": "application/json" },
        body: JSON.stringify(rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "n".repeat(20_000), version: "1" } })),
      }),
      { principal: { tenant, server: "notes", keyId }, newSessionId: sessionId },
    ));
    await expectRpcError(res, 400, -32602);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    expect(await listSessions(tenant)).toEqual([]);
  });

  it("platform:client-bounds — ids, methods and tool names are cut to 200 characters in the request log", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const res = await send(session, { jsonrpc: "2.0", id: "i".repeat(3000), method: "tools/call", params: { name: "x".repeat(3000), arguments: {} } });
    await res.body?.cancel();
    const res2 = await send(session, { jsonrpc: "2.0", id: 7, method: "m".repeat(3000) });
    await res2.body?.cancel();
    const { requests } = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}/requests`);
    const long = requests.slice(-2);
    expect(long.map((r: any) => [r.rpcId?.length, r.method.length, r.tool?.length ?? null])).toEqual([
      [200, "tools/call".length, 200],
      [1, 200, null],
    ]);
  });

  it("platform:client-bounds — the request log forgets requests refused with an HTTP error and cancelled ones", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["everything"] });
    const url = mcpUrl(tenant, "everything");
    const session = await openSession(url, key);
    const view = () => adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}`);

    // Refused by the SDK before dispatch (406: the client does not accept SSE).
    const refused = await send(session, rpc("tools/list"), { headers: { Accept: "application/json" } });
    expect(refused.status).toBe(406);
    await refused.body?.cancel();
    expect((await view()).pendingRequests).toBe(0);

    // Cancelled while its handler runs: the SDK sends no answer, so only the cancel can settle it.
    const call = rpc("tools/call", { name: "test_tool_with_logging", arguments: {} });
    const running = await send(session, call);
    const reader = new SseReader(running);
    // The first log message (after the priming event): the handler has started.
    for (let e = await reader.next(); e && e.data === ""; e = await reader.next());
    const cancel = await send(session, notification("notifications/cancelled", { requestId: call.id, reason: "test" }));
    expect(cancel.status).toBe(202);
    await cancel.body?.cancel();
    await reader.cancel();
    expect((await view()).pendingRequests).toBe(0);

    const { requests } = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}/requests`);
    const statuses = requests.map((r: any) => `${r.method}:${r.status}`);
    expect(statuses).toContain("tools/list:http-406");
    expect(statuses.filter((s: string) => s.startsWith("tools/call:"))).toHaveLength(1);
    expect(["tools/call:cancelled", "tools/call:ok"]).toContain(statuses.find((s: string) => s.startsWith("tools/call:")));
  });
});

describe("item 5: the request log's map of requests in flight", () => {
  /** A RequestLog on the real SQLite and KV of a scratch Durable Object. */
  const onScratchObject = <T>(run: (sql: SqlStorage, kv: SyncKvStorage) => T) =>
    runInDurableObject(sessionStub("scratch", "request-log", crypto.randomUUID(), "scratch"), (_instance, state) => {
      state.storage.sql.exec(REQUEST_LOG_SCHEMA);
      return run(state.storage.sql, state.storage.kv);
    });
  const statuses = (log: RequestLog) => log.page(0, 100).map((r) => `${r.rpcId}:${r.status}`);

  it("platform:client-bounds — past its count or byte bound the oldest request in flight is logged as abandoned", async () => {
    await onScratchObject((sql, kv) => {
      const log = new RequestLog(sql, kv, () => {}, { maxPending: 2, maxPendingBytes: 1_000_000 });
      for (let id = 1; id <= 4; id++) log.received({ jsonrpc: "2.0", id, method: "tools/list" });
      expect(log.pending.count).toBe(2);
      expect(statuses(log)).toEqual(["1:abandoned", "2:abandoned"]);

      // Ids and methods are cut to 200 characters: 2 × 400 + 96 = 896 bytes an entry.
      const byBytes = new RequestLog(sql, kv, () => {}, { maxPending: 100, maxPendingBytes: 1_500 });
      for (let id = 1; id <= 4; id++) byBytes.received({ jsonrpc: "2.0", id: `${id}`.padEnd(300, "x"), method: "m".repeat(300) });
      expect(byBytes.pending.bytes).toBe(896);
      expect(byBytes.pending.count).toBe(1);
    });
  });

  it("platform:client-bounds — a request unanswered past the TTL is logged as abandoned when the next one arrives", async () => {
    await onScratchObject((sql, kv) => {
      const log = new RequestLog(sql, kv, () => {}, { pendingTtlMs: 0 });
      log.received({ jsonrpc: "2.0", id: 1, method: "tools/list" });
      log.received({ jsonrpc: "2.0", id: 2, method: "tools/list" });
      expect(log.pending.count).toBe(1);
      expect(statuses(log)).toEqual(["1:abandoned"]);
      expect(log.counts).toEqual({ requests: 1, errors: 0 });
    });
  });
});

describe("item 6: ending a session is exclusive and idempotent, with one commit point", () => {
  it("platform:session-end — an expiry racing a request leaves the session either alive or fully gone", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const session = await openSession(mcpUrl(tenant, "notes"), key);
      const stub = await ageSession(session, tenant);
      const [res] = await Promise.all([send(session, rpc("tools/call", { name: "list_notes", arguments: {} })), runDurableObjectAlarm(stub)]);
      const status = res.status;
      await res.body?.cancel();
      seen.add(await expectAliveOrGone(tenant, session, status));
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it("platform:session-end — DELETE, admin terminate and an expiry alarm at once end the session once", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const stub = await ageSession(session, tenant);
    const [deleted, terminated] = await Promise.all([
      send(session, undefined, { method: "DELETE" }),
      adminOk("DELETE", `/tenants/${tenant}/sessions/${session.sessionId}`).catch((err) => err),
      runDurableObjectAlarm(stub),
    ]);
    expect([200, 404]).toContain(deleted.status);
    await deleted.body?.cancel();
    expect(terminated).not.toBeInstanceOf(Error);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    expect(await listSessions(tenant)).toEqual([]);
    const ended = (await auditEntries(tenant)).filter((e) => e.action === "session.ended" && e.target === session.sessionId);
    expect(ended).toHaveLength(1);
    await expectRpcError(await send(session, rpc("ping")), 404, -32001);
  });

  it("platform:session-end — a request racing a terminate after eviction never brings the session back", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    for (let i = 0; i < 3; i++) {
      const session = await openSession(mcpUrl(tenant, "notes"), key);
      const stub = sessionStub(tenant, "notes", session.sessionId);
      await evictDurableObject(stub);
      const [res] = await Promise.all([
        send(session, rpc("tools/call", { name: "list_notes", arguments: {} })),
        adminOk("DELETE", `/tenants/${tenant}/sessions/${session.sessionId}`),
      ]);
      await res.body?.cancel();
      expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
      await expectRpcError(await send(session, rpc("ping")), 404, -32001);
      expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    }
    expect(await listSessions(tenant)).toEqual([]);
  });

  it("platform:session-end — an end committed but not finished (evicted half-way) is finished by the alarm", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const stub = sessionStub(tenant, "notes", session.sessionId);
    // The state right after the commit point: `ended` written, the tenant not yet told.
    await runInDurableObject(stub, (_instance, state) => state.storage.kv.put("ended", { reason: "terminated", at: Date.now() }));
    await evictDurableObject(stub);
    await expectRpcError(await send(session, rpc("ping")), 404, -32001);
    expect((await listSessions(tenant)).map((s) => s.id)).toEqual([session.sessionId]);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    expect(await listSessions(tenant)).toEqual([]);
  });
});

describe("item 7: the session index holds no ghosts; counters survive evictions", () => {
  it("platform:session-end platform:stranger-writes — three initializes the SDK refuses (406) take no slot and write no session.created", async () => {
    const { tenant, key, keyId } = await provisionTenant({ servers: ["notes"] });
    await setLimits(tenant, { maxSessions: 3 });
    const before = await tenantFootprint(tenant);
    for (let i = 0; i < 3; i++) {
      const res = await mcpFetch(mcpUrl(tenant, "notes"), {
        key,
        headers: { Accept: "application/json" },
        body: rpc("initialize", initializeParams("2025-11-25")),
      });
      expect(res.status).toBe(406);
      await res.body?.cancel();
    }
    const after = await tenantFootprint(tenant);
    expect(after.sessions).toBe(0);
    expect(after.audit).toBe(before.audit);

    // The session object of a refused initialize holds nothing either.
    const sessionId = "R".repeat(32);
    const stub = sessionStub(tenant, "notes", sessionId);
    const direct = fromSessionAnswer(await stub.serve(
      new Request(`https://smcp.test/mcp/${tenant}/notes`, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(rpc("initialize", initializeParams("2025-11-25"))),
      }),
      { principal: { tenant, server: "notes", keyId }, newSessionId: sessionId },
    ));
    expect(direct.status).toBe(406);
    await direct.body?.cancel();
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    expect((await tenantFootprint(tenant)).sessions).toBe(0);

    await openSession(mcpUrl(tenant, "notes"), key);
    expect(await listSessions(tenant)).toHaveLength(1);
    expect((await auditEntries(tenant)).filter((e) => e.action === "session.created")).toHaveLength(1);
  });

  it("platform:session-end admin:health — requests counted before an eviction still reach the tenant's totals", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const stub = sessionStub(tenant, "notes", session.sessionId);
    for (let i = 0; i < 3; i++) await callTool(session, "list_notes");
    await evictDurableObject(stub);
    for (let i = 0; i < 2; i++) await callTool(session, "list_notes");
    await send(session, rpc("no/such/method")).then((r) => r.body?.cancel());
    // initialize + 5 calls + 1 error; a due report is sent by the alarm.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // The report went to the session's report shard; its flush (5 s later) brings it to the tenant.
    await flushReports(tenant);
    const live = await tenantStub(env, tenant).stats();
    expect({ requests: live?.requests, errors: live?.errors }).toEqual({ requests: 7, errors: 1 });

    await evictDurableObject(stub);
    const ended = await send(session, undefined, { method: "DELETE" });
    expect(ended.status).toBe(200);
    await ended.body?.cancel();
    const closed = await tenantStub(env, tenant).stats();
    expect({ sessions: closed?.sessions, requests: closed?.requests, errors: closed?.errors }).toEqual({ sessions: 0, requests: 7, errors: 1 });
  });

  it("platform:session-end — an expired index row whose session object is gone is swept; a live one is kept", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    await setLimits(tenant, { maxSessions: 2 });
    const ghost = await openSession(mcpUrl(tenant, "notes"), key);
    const live = await openSession(mcpUrl(tenant, "notes"), key);
    // The ghost's object lost its storage without telling the tenant (what a failed end used to leave).
    const ghostStub = sessionStub(tenant, "notes", ghost.sessionId);
    await loseStorage(ghostStub);
    await runInDurableObject(tenantStub(env, tenant), (_instance, state) => {
      state.storage.sql.exec("UPDATE sessions SET expires_at = ?", Date.now() - 120_000);
    });
    // Written under the tenant object, which keeps its earliest expiry in memory (as time passing would not need).
    await evictDurableObject(tenantStub(env, tenant));

    const third = await openSession(mcpUrl(tenant, "notes"), key);
    const ids = (await listSessions(tenant)).map((s) => s.id).sort();
    expect(ids).toEqual([live.sessionId, third.sessionId].sort());
    expect(await storageOf(ghostStub)).toEqual(EMPTY_STORAGE);
    const swept = (await auditEntries(tenant)).filter((e) => e.action === "session.ended");
    expect(swept.map((e) => [e.target, e.detail.reason])).toEqual([[ghost.sessionId, "swept"]]);
    await callTool(live, "list_notes");
  });
  it("platform:session-end — a report that moves a row's expiry into the past gets it swept by the next admission (the sweep's bound goes down with every expiry written)", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const ghost = await openSession(mcpUrl(tenant, "notes"), key);
    // This admission's sweep finds nothing past its expiry and keeps the earliest expiry as its bound.
    const live = await openSession(mcpUrl(tenant, "notes"), key);
    const ghostStub = sessionStub(tenant, "notes", ghost.sessionId);
    await loseStorage(ghostStub);
    const past = Date.now() - 120_000;
    const ack = await tenantStub(env, tenant).sessionTouched(ghost.sessionId, { seq: 1000, lastActivity: past, expiresAt: past, requests: 1, errors: 0, eventBytes: 0 });
    expect(ack.ok).toBe(true);

    const third = await openSession(mcpUrl(tenant, "notes"), key);
    expect((await listSessions(tenant)).map((s) => s.id).sort()).toEqual([live.sessionId, third.sessionId].sort());
    const swept = (await auditEntries(tenant)).filter((e) => e.action === "session.ended");
    expect(swept.map((e) => [e.target, e.detail.reason])).toEqual([[ghost.sessionId, "swept"]]);
  });
});

describe("item 9: creating a session re-checks the credential in the tenant object", () => {
  it("auth:revoke-10s platform:session-end — a key revoked seconds ago cannot create a session, though the Worker's cache still admits it", async () => {
    const { tenant, key, keyId } = await provisionTenant({ servers: ["notes"] });
    await openSession(mcpUrl(tenant, "notes"), key); // the Worker now caches the key as valid
    await adminOk("DELETE", `/tenants/${tenant}/keys/${keyId}`);
    const before = await tenantFootprint(tenant);

    const res = await mcpFetch(mcpUrl(tenant, "notes"), { key, body: rpc("initialize", initializeParams("2025-11-25")) });
    await expectRpcError(res, 401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer resource_metadata=/);
    expect(await tenantFootprint(tenant)).toEqual(before);
    expect(before.sessions).toBe(0);
  });
});
