/**
 * Attacks on isolation and limits (SPEC sections 4 and 5), each expecting a clear
 * refusal, never a 500, never another tenant's data, and nothing already stored lost.
 * Cross-tenant session hijack and id guessing live in session-404.test.ts; Origin and
 * malformed bodies in bad-input.test.ts.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  EMPTY_STORAGE,
  ORIGIN,
  adminOk,
  callTool,
  expectNoStackTrace,
  mcpFetch,
  mcpUrl,
  openSession,
  openStream,
  provisionTenant,
  rpc,
  send,
  sessionStub,
  statelessFetch,
  statelessTool,
  storageOf,
} from "./helpers";

const setLimits = (tenant: string, limits: Record<string, number>) => adminOk("PATCH", `/tenants/${tenant}`, { limits });

describe("limits", () => {
  it("limits:429-rate-limit — a flood gets 429 with Retry-After while a well-behaved tenant is unaffected", async () => {
    const flooder = await provisionTenant({ prefix: "flood", servers: ["notes"] });
    const neighbour = await provisionTenant({ prefix: "calm", servers: ["notes"] });
    await statelessTool(mcpUrl(flooder.tenant, "notes"), flooder.key, "add_note", { title: "kept", body: "stored before the flood" });
    await setLimits(flooder.tenant, { requestsPerSecond: 5 });

    const flood = await Promise.all(
      Array.from({ length: 40 }, () => statelessFetch(mcpUrl(flooder.tenant, "notes"), flooder.key, "tools/list")),
    );
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(flood.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    for (const r of limited) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const body = await r.json<any>();
      expect(body.error.message).toMatch(/Rate limit exceeded/);
    }

    const calm = await Promise.all(
      Array.from({ length: 10 }, () => statelessFetch(mcpUrl(neighbour.tenant, "notes"), neighbour.key, "tools/list")),
    );
    expect(calm.map((r) => r.status)).toEqual(Array(10).fill(200));

    const audit = await adminOk("GET", `/tenants/${flooder.tenant}/audit`);
    expect(audit.entries.map((e: any) => `${e.action}:${e.target}`)).toContain("limit.hit:requests");

    await setLimits(flooder.tenant, { requestsPerSecond: 1000 });
    // The lease of the limited isolate lapses within a second; nothing stored was lost.
    await new Promise((r) => setTimeout(r, 1100));
    const kept = await statelessTool(mcpUrl(flooder.tenant, "notes"), flooder.key, "search_notes", { query: "before the flood" });
    expect(kept.structuredContent.notes).toHaveLength(1);
  });

  it("limits:max-sessions — over the tenant's session limit, initialize gets 429 and the refused session stores nothing", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    await setLimits(tenant, { maxSessions: 2 });
    await openSession(mcpUrl(tenant, "notes"), key);
    await openSession(mcpUrl(tenant, "notes"), key);
    const res = await mcpFetch(mcpUrl(tenant, "notes"), {
      key,
      body: rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "third", version: "1" } }),
    });
    expect(res.status).toBe(429);
    const text = await res.text();
    expect(JSON.parse(text).error.message).toMatch(/2 open sessions/);
    expect((await adminOk("GET", `/tenants/${tenant}/sessions`)).sessions).toHaveLength(2);
  });

  it("limits:tool-data-quota — a write over the tenant's tool-data bytes fails clearly and loses nothing", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    await setLimits(tenant, { toolDataBytes: 2048 });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "add_note", { title: "first", body: "a".repeat(1200) });
    const over = await callTool(session, "add_note", { title: "second", body: "b".repeat(1200) });
    expect(over.isError).toBe(true);
    expect(over.content[0].text).toMatch(/quota exceeded.*nothing was written/i);
    const listed = await callTool(session, "list_notes");
    expect(listed.structuredContent.notes.map((n: any) => n.title)).toEqual(["first"]);
  });

  it("limits:header-size — oversized headers get 431", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const res = await mcpFetch(mcpUrl(tenant, "notes"), { key, headers: { "X-Padding": "p".repeat(20_000) }, body: rpc("tools/list") });
    expect(res.status).toBe(431);
  });
});

describe("credentials", () => {
  it("auth:revoked-key-open-stream — revoking a key ends its open streams and its sessions", async () => {
    const { tenant, key, keyId } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const stream = await openStream(session);
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // the priming event

    await adminOk("DELETE", `/tenants/${tenant}/keys/${keyId}`);
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    const after = await send(session, rpc("tools/list"));
    expect([401, 404]).toContain(after.status);
  });

  it("auth:replayed-admin-token — a wrong or replayed-looking admin token never reaches admin data", async () => {
    const wrong = ["Bearer", `Bearer ${ADMIN_TOKEN.toUpperCase()}`, `Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(0, -1)}`, `Basic ${ADMIN_TOKEN}`, ADMIN_TOKEN];
    for (const authorization of wrong) {
      const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants`, { headers: { Authorization: authorization } });
      expect(res.status).toBe(401);
    }
  });
});

describe("hostile input", () => {
  it("input:deeply-nested-json — very deep nesting is refused or handled, never a 500", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    for (const depth of [100, 5_000, 100_000]) {
      const nested = "[".repeat(depth) + "]".repeat(depth);
      const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_note","arguments":{"title":"deep","body":${nested}}}}`;
      const res = await mcpFetch(mcpUrl(tenant, "notes"), { key, sessionId: session.sessionId, body });
      expect(res.status, `depth ${depth}`).toBeLessThan(500);
      expectNoStackTrace(await res.text());
    }
  });

  it("input:unicode-names — unicode and control characters in names are refused cleanly; in data they round-trip", async () => {
    for (const id of ["ácme", "a\u0000b", "ACME", "a b", "‮evil", "a".repeat(64)]) {
      const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ id }),
      });
      expect(res.status, id).toBe(400);
    }
    for (const path of ["/mcp/%C3%A1cme/notes", "/mcp/a%00b/notes", "/mcp/acme/no%0Ates", "/mcp/../admin/v1/tenants"]) {
      const res = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST" });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const title = "tab\there \u0007 bell ‮ rtl 🦀 \u0000 nul";
    await statelessTool(mcpUrl(tenant, "notes"), key, "add_note", { title, body: "x" });
    const listed = await statelessTool(mcpUrl(tenant, "notes"), key, "list_notes");
    expect(listed.structuredContent.notes[0].title).toBe(title);
  });

  it("input:refused-initialize-stores-nothing — an initialize refused for a bad key leaves no session object state", async () => {
    const { tenant } = await provisionTenant({ servers: ["notes"] });
    const res = await mcpFetch(mcpUrl(tenant, "notes"), {
      key: "smcp_sk_guess",
      body: rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } }),
    });
    expect(res.status).toBe(401);
    expect(await storageOf(sessionStub(tenant, "notes", "A".repeat(32)))).toEqual(EMPTY_STORAGE);
  });
});
