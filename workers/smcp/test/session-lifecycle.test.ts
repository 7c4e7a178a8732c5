/**
 * SPEC section 3, session lane: create, use, stream, delete; the tenant's session
 * index follows each session; eviction loses nothing; the idle-TTL alarm.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  EMPTY_STORAGE,
  SseReader,
  admin,
  adminOk,
  callTool,
  expectRpcError,
  listSessions,
  mcpUrl,
  messagesOf,
  responseMessage,
  openSession,
  openStream,
  provisionTenant,
  request,
  rpc,
  send,
  sessionStub,
  storageOf,
  textOf,
} from "./helpers";

const TTL_MS = 1800 * 1000; // SMCP_SESSION_TTL_SECONDS in wrangler.jsonc

describe("session lifecycle", () => {
  it("session:create mcp:session-id-charset mcp:session-id-charset — initialize mints an unguessable Mcp-Session-Id (32 base64url chars, 192 bits)", async () => {
    const { tenant, key } = await provisionTenant();
    const a = await openSession(mcpUrl(tenant, "notes"), key);
    const b = await openSession(mcpUrl(tenant, "notes"), key);
    expect(a.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(b.sessionId).not.toBe(a.sessionId);
  });

  it("session:streams session:json-answer — tools/call on a session answers at once as one JSON body with the session header", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const res = await send(session, rpc("tools/call", { name: "add_note", arguments: { title: "hello", body: "world" } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("mcp-session-id")).toBe(session.sessionId);
    const response = await res.json<any>();
    expect(textOf(response.result)).toMatch(/^Added note /);
  });

  it("session:streams — GET opens the standalone stream, starting with a priming event and retry: (2025-11-25)", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const res = await openStream(session);
    expect(res.status).toBe(200);
    const reader = new SseReader(res);
    const [priming] = await reader.take(1);
    expect(priming!.data).toBe("");
    expect(priming!.id).toMatch(/^_GET_stream\.\d+$/);
    expect(priming!.retry).toBe(250); // SMCP_SSE_RETRY_MS in vitest.config.ts
    await reader.cancel();
  });

  it("session:streams — a second GET replaces an abandoned standalone stream instead of 409", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const first = new SseReader(await openStream(session));
    await first.take(1);
    const second = await openStream(session);
    expect(second.status).toBe(200);
    const reader = new SseReader(second);
    await reader.take(1);
    await reader.cancel();
    await first.cancel();
  });

  it("session:delete — DELETE ends the session: later POST, GET and DELETE get 404, its storage is gone", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "list_notes");

    const ended = await send(session, undefined, { method: "DELETE" });
    expect(ended.status).toBe(200);
    await ended.body?.cancel();

    await expectRpcError(await send(session, rpc("tools/call", { name: "list_notes", arguments: {} })), 404, -32001);
    await expectRpcError(await openStream(session), 404, -32001);
    await expectRpcError(await send(session, undefined, { method: "DELETE" }), 404, -32001);
    expect(await storageOf(sessionStub(tenant, "notes", session.sessionId))).toEqual(EMPTY_STORAGE);
  });

  it("admin:sessions — the tenant's session index lists a session with its principal, then drops it on DELETE", async () => {
    const { tenant, key, keyId } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);

    const [listed, ...others] = await listSessions(tenant);
    expect(others).toEqual([]);
    expect(listed).toMatchObject({
      id: session.sessionId,
      server: "notes",
      keyId,
      protocolVersion: "2025-11-25",
      clientInfo: { name: "smcp-workerd-tests", version: "1.0.0" },
    });
    const view = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}`);
    expect(view).toMatchObject({ id: session.sessionId, tenant, server: "notes", keyId });
    // It expires one idle TTL after its last activity; its alarm is due by then at the latest
    // (earlier when a counter report is due first); the log holds the initialize stream.
    expect(view.expiresAt - view.lastActivity).toBe(TTL_MS);
    expect(typeof view.nextAlarm).toBe("number");
    expect(view.nextAlarm).toBeLessThanOrEqual(view.expiresAt);
    expect(view.eventLog.events).toBe(session.initEvents.length);

    const ended = await send(session, undefined, { method: "DELETE" });
    await ended.body?.cancel();
    expect(await listSessions(tenant)).toEqual([]);
    const gone = await admin("GET", `/tenants/${tenant}/sessions/${session.sessionId}`);
    expect(gone.status).toBe(404);
  });

  it("admin:sessions — DELETE /admin/v1/tenants/{t}/sessions/{sid} ends the session now", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await adminOk("DELETE", `/tenants/${tenant}/sessions/${session.sessionId}`);
    await expectRpcError(await send(session, rpc("ping")), 404, -32001);
    expect(await listSessions(tenant)).toEqual([]);
    expect(await storageOf(sessionStub(tenant, "notes", session.sessionId))).toEqual(EMPTY_STORAGE);
  });
});

describe("eviction", () => {
  it("session:create mcp:session-id-charset resume:replay — after the Durable Object is evicted the same session id keeps working", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const added = await callTool(session, "add_note", { title: "before eviction", body: "kept" });

    await evictDurableObject(sessionStub(tenant, "notes", session.sessionId));

    // A fresh SDK server would answer 400 "Server not initialized" if the handshake were not restored.
    const res = await send(session, rpc("tools/call", { name: "list_notes", arguments: {} }));
    expect(res.status).toBe(200);
    const message = await responseMessage(res);
    expect(message.error).toBeUndefined();
    expect(message.result.structuredContent.notes.map((n: { id: string }) => n.id)).toEqual([added.structuredContent.id]);
    expect((await request(session, "tools/list")).result.tools.map((t: { name: string }) => t.name).sort()).toEqual(["add_note", "delete_note", "list_notes", "search_notes"]);

    const stream = new SseReader(await openStream(session));
    expect((await stream.take(1))[0]!.data).toBe("");
    await stream.cancel();
  });
});

describe("idle TTL alarm", () => {
  it("session:ttl — an alarm that fires before expiry reschedules itself and keeps the session", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const stub = sessionStub(tenant, "notes", session.sessionId);

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const after = await storageOf(stub);
    // Rescheduled to one idle TTL after the last activity.
    const view = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}`);
    expect(after.alarm).toBe(view.lastActivity + TTL_MS);
    expect(view.nextAlarm).toBe(after.alarm);
    expect(after.kvKeys).toContain("meta");
    await callTool(session, "list_notes");
    expect((await listSessions(tenant)).map((s) => s.id)).toEqual([session.sessionId]);
  });

  it("resume:bounded session:ttl — the alarm prunes events older than the TTL; resuming from them then gets 409", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const oldId = session.initEvents.at(-1)!.id!;
    const stub = sessionStub(tenant, "notes", session.sessionId);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE events SET created_at = ?", Date.now() - TTL_MS - 60_000);
    });
    await (await openStream(session)).body!.cancel(); // a fresh event (the stream's priming) that must stay

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    await runInDurableObject(stub, (_instance, state) => {
      const left = state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE created_at < ?", Date.now() - TTL_MS).one().n;
      expect(left).toBe(0);
      // What stays is the fresh stream's priming event.
      expect(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n).toBe(1);
    });
    await expectRpcError(await openStream(session, oldId), 409);
    await callTool(session, "list_notes");
  });

  it("session:ttl — the alarm of a session idle past its TTL deletes all its storage and its index entry", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "add_note", { title: "tenant data", body: "outlives the session" });
    const stub = sessionStub(tenant, "notes", session.sessionId);

    // Idle since well before the TTL: move the persisted last activity into the past, then
    // evict so the object reloads it (an idle object is evicted long before its TTL anyway).
    await runInDurableObject(stub, (_instance, state) => {
      const meta = state.storage.kv.get<{ lastActivity: number }>("meta")!;
      state.storage.kv.put("meta", { ...meta, lastActivity: Date.now() - TTL_MS - 60_000 });
    });
    await evictDurableObject(stub);

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    expect(await listSessions(tenant)).toEqual([]);
    await expectRpcError(await send(session, rpc("ping")), 404, -32001);
    // Only the session ended: the tenant's notes are still there for a new session.
    const next = await openSession(mcpUrl(tenant, "notes"), key);
    expect((await callTool(next, "list_notes")).structuredContent.notes).toHaveLength(1);
  });
});
