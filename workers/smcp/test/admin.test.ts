/**
 * SPEC sections 4 and 6: the admin API. Tenants, keys (shown once, revocable),
 * servers, `auth: "none"` tenants, and its JSON errors.
 */
import { SELF, env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { AUTH_CACHE_MS } from "../src/mcp/authenticate";
import {
  EMPTY_STORAGE,
  ORIGIN,
  admin,
  adminOk,
  callTool,
  expectRpcError,
  initializeParams,
  listSessions,
  mcpFetch,
  mcpUrl,
  newKey,
  openSession,
  provisionTenant,
  rpc,
  send,
  sessionStub,
  statelessFetch,
  statelessTool,
  storageOf,
  uniqueName,
} from "./helpers";

async function expectAdminError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(JSON.parse(text)).toEqual({ error: { code, message: expect.any(String) } });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("admin token", () => {
  it("routes:admin — every admin route needs Authorization: Bearer $SMCP_ADMIN_TOKEN", async () => {
    const id = uniqueName("denied");
    const calls: [string, string, unknown?][] = [
      ["GET", "/tenants"],
      ["POST", "/tenants", { id }],
      ["GET", `/tenants/${id}`],
      ["DELETE", `/tenants/${id}`],
      ["POST", `/tenants/${id}/keys`, {}],
      ["GET", "/no-such-admin-route"],
    ];
    for (const token of [null, "wrong-token", "test-admin-token-but-longer", ""]) {
      for (const [method, path, body] of calls) {
        const res = await admin(method, path, body, token);
        expect(res.headers.get("www-authenticate"), `${method} ${path}`).toMatch(/^Bearer /);
        await expectAdminError(res, 401, "unauthorized");
      }
    }
    const basic = await SELF.fetch(`${ORIGIN}/admin/v1/tenants`, { headers: { Authorization: `Basic ${btoa("admin:test-admin-token")}` } });
    await expectAdminError(basic, 401, "unauthorized");
    // Nothing was created by the refused POSTs.
    await expectAdminError(await admin("GET", `/tenants/${id}`), 404, "unknown_tenant");
  });
});

describe("tenants", () => {
  it("admin:tenants tenant:own-object — create (201), list, get, duplicate (409), bad id (400), delete with all data", async () => {
    const id = uniqueName("crud");
    const created = await adminOk("POST", "/tenants", { id, name: "Crud Inc." }, 201);
    expect(created).toEqual({ id, name: "Crud Inc.", auth: "key", limits: {}, createdAt: expect.any(Number) });

    expect((await adminOk("GET", "/tenants")).tenants).toContainEqual(created);
    expect(await adminOk("GET", `/tenants/${id}`)).toEqual(created);
    await expectAdminError(await admin("POST", "/tenants", { id }), 409, "tenant_exists");
    for (const bad of [{ id: "Bad_Id" }, { id: "" }, { id: "x".repeat(64) }, {}, { id: "ok-id", auth: "maybe" }, { id: "ok-id", surprise: 1 }]) {
      await expectAdminError(await admin("POST", "/tenants", bad), 400, "invalid_body");
    }

    // Give it data: a key, a server, a session, a note.
    await adminOk("PUT", `/tenants/${id}/servers/notes`, undefined, 201);
    const { key } = await newKey(id);
    const spare = await newKey(id); // never used, so never in any auth cache
    const session = await openSession(mcpUrl(id, "notes"), key);
    await callTool(session, "add_note", { title: "old data", body: "" });

    expect(await adminOk("DELETE", `/tenants/${id}`)).toEqual({ deleted: id, sessionsEnded: 1 });
    await expectAdminError(await admin("GET", `/tenants/${id}`), 404, "unknown_tenant");
    expect((await adminOk("GET", "/tenants")).tenants.map((t: { id: string }) => t.id)).not.toContain(id);
    await expectAdminError(await admin("DELETE", `/tenants/${id}`), 404, "unknown_tenant");
    expect(await storageOf(sessionStub(id, "notes", session.sessionId))).toEqual(EMPTY_STORAGE);
    await expectRpcError(await mcpFetch(mcpUrl(id, "notes"), { key: spare.key, body: rpc("ping") }), 401);
    // Once this isolate's auth cache has expired, the used key is refused too.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + AUTH_CACHE_MS + 1);
    await expectRpcError(await send(session, rpc("ping")), 401);
    vi.useRealTimers();

    // Re-created under the same id, it starts empty.
    await adminOk("POST", "/tenants", { id }, 201);
    await adminOk("PUT", `/tenants/${id}/servers/notes`, undefined, 201);
    const fresh = await newKey(id);
    expect(await listSessions(id)).toEqual([]);
    expect((await adminOk("GET", `/tenants/${id}/keys`)).keys.map((k: { id: string }) => k.id)).toEqual([fresh.id]);
    const notes = await callTool(await openSession(mcpUrl(id, "notes"), fresh.key), "list_notes");
    expect(notes.structuredContent.notes).toEqual([]);
  });

  it("admin:errors — unknown tenants and routes get JSON errors {error: {code, message}}", async () => {
    const ghost = uniqueName("ghost");
    await expectAdminError(await admin("GET", `/tenants/${ghost}`), 404, "unknown_tenant");
    await expectAdminError(await admin("GET", `/tenants/${ghost}/keys`), 404, "unknown_tenant");
    await expectAdminError(await admin("POST", `/tenants/${ghost}/keys`, { label: "x" }), 404, "unknown_tenant");
    await expectAdminError(await admin("PUT", `/tenants/${ghost}/servers/notes`), 404, "unknown_tenant");
    await expectAdminError(await admin("GET", `/tenants/${ghost}/sessions`), 404, "unknown_tenant");
    await expectAdminError(await admin("GET", "/nope"), 404, "not_found");
    await expectAdminError(await admin("PATCH", "/tenants"), 405, "method_not_allowed");
  });
});

describe("keys", () => {
  it("admin:keys auth:keys-hashed auth:keys-hashed — a key is shown once at creation; listing shows ids and labels, never a secret", async () => {
    const { tenant } = await provisionTenant();
    const created = await adminOk("POST", `/tenants/${tenant}/keys`, { label: "ci" }, 201);
    expect(created).toEqual({ id: expect.stringMatching(/^key_/), label: "ci", createdAt: expect.any(Number), revokedAt: null, key: expect.stringMatching(/^smcp_sk_[A-Za-z0-9_-]{43}$/) });

    const res = await admin("GET", `/tenants/${tenant}/keys`);
    const text = await res.text();
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(created.key.slice("smcp_sk_".length, 20));
    const { keys } = JSON.parse(text);
    expect(keys).toContainEqual({ id: created.id, label: "ci", createdAt: created.createdAt, revokedAt: null });
    for (const key of keys) expect(Object.keys(key).sort()).toEqual(["createdAt", "id", "label", "revokedAt"]);
  });

  it("admin:keys auth:keys-hashed setup:dev-vars — a key the admin holds can be stored again (pnpm dev after a wipe); only SMCP's own format, never twice", async () => {
    const { tenant } = await provisionTenant();
    const held = `smcp_sk_${"A".repeat(20)}${"b".repeat(23)}`;
    const restored = await adminOk("POST", `/tenants/${tenant}/keys`, { label: "kept", key: held }, 201);
    expect(restored).toEqual({ id: expect.stringMatching(/^key_/), label: "kept", createdAt: expect.any(Number), revokedAt: null, key: held });
    await callTool(await openSession(mcpUrl(tenant, "notes"), held), "list_notes");
    await expectAdminError(await admin("POST", `/tenants/${tenant}/keys`, { key: held }), 409, "key_exists");
    for (const weak of ["password123", "smcp_sk_short", `smcp_sk_${"a".repeat(42)}!`, `smcp_at_${"a".repeat(43)}`]) {
      await expectAdminError(await admin("POST", `/tenants/${tenant}/keys`, { key: weak }), 400, "invalid_body");
    }
  });

  it("admin:keys auth:keys-hashed auth:401 — a revoked key is refused with 401; revoking twice re-drives (200), an unknown key gets 404", async () => {
    const { tenant, key } = await provisionTenant();
    const fresh = await newKey(tenant);
    expect(await adminOk("DELETE", `/tenants/${tenant}/keys/${fresh.id}`)).toEqual({ revoked: fresh.id, alreadyRevoked: false, sessionsEnded: 0, sessionsFailed: [] });

    // A key never presented before its revocation is in no isolate's cache: refused at once.
    const res = await mcpFetch(mcpUrl(tenant, "notes"), { key: fresh.key, body: rpc("initialize", initializeParams("2025-11-25")) });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer resource_metadata="/);
    await expectRpcError(res, 401);

    const listed = (await adminOk("GET", `/tenants/${tenant}/keys`)).keys.find((k: { id: string }) => k.id === fresh.id);
    expect(listed.revokedAt).toEqual(expect.any(Number));
    expect(await adminOk("DELETE", `/tenants/${tenant}/keys/${fresh.id}`)).toEqual({ revoked: fresh.id, alreadyRevoked: true, sessionsEnded: 0, sessionsFailed: [] });
    await expectAdminError(await admin("DELETE", `/tenants/${tenant}/keys/key_nope`), 404, "unknown_key");
    // The tenant's other key is unaffected.
    await callTool(await openSession(mcpUrl(tenant, "notes"), key), "list_notes");
  });

  it("auth:revoke-10s — a key in use stops working once the auth cache expires (clock moved, no sleep)", async () => {
    expect(AUTH_CACHE_MS).toBeLessThanOrEqual(10_000);
    const { tenant, key, keyId } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "list_notes"); // the key's "ok" is now cached in this isolate

    await adminOk("DELETE", `/tenants/${tenant}/keys/${keyId}`);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + AUTH_CACHE_MS + 1);
    await expectRpcError(await send(session, rpc("tools/call", { name: "list_notes", arguments: {} })), 401);
    await expectRpcError(await statelessFetch(mcpUrl(tenant, "notes"), key, "tools/call", { name: "list_notes", arguments: {} }), 401);
  });
});

describe("servers", () => {
  it("admin:servers — enable (201, then 200), list, disable; a disabled or unknown server is 404 on the MCP endpoint", async () => {
    const { tenant, key } = await provisionTenant({ servers: [] });
    expect(await adminOk("PUT", `/tenants/${tenant}/servers/notes`, undefined, 201)).toEqual({ server: "notes", enabled: true });
    expect(await adminOk("PUT", `/tenants/${tenant}/servers/notes`)).toEqual({ server: "notes", enabled: true });
    await adminOk("PUT", `/tenants/${tenant}/servers/everything`, undefined, 201);
    await expectAdminError(await admin("PUT", `/tenants/${tenant}/servers/no-such-server`), 404, "unknown_server");

    const listed = await adminOk("GET", `/tenants/${tenant}/servers`);
    expect(listed.servers.map((s: { name: string }) => s.name)).toEqual(["everything", "notes"]);
    expect(listed.available).toEqual(expect.arrayContaining(["everything", "notes"]));

    expect(await adminOk("DELETE", `/tenants/${tenant}/servers/everything`)).toEqual({ server: "everything", enabled: false });
    await expectAdminError(await admin("DELETE", `/tenants/${tenant}/servers/everything`), 404, "unknown_server");
    expect((await adminOk("GET", `/tenants/${tenant}/servers`)).servers.map((s: { name: string }) => s.name)).toEqual(["notes"]);

    const disabled = await mcpFetch(mcpUrl(tenant, "everything"), { key, body: rpc("initialize", initializeParams("2025-11-25")) });
    await expectRpcError(disabled, 404);
    expect(disabled.headers.get("mcp-session-id")).toBeNull();
    await callTool(await openSession(mcpUrl(tenant, "notes"), key), "list_notes");
  });
});

describe("public tenants", () => {
  it('auth:public-tenants — an `auth: "none"` tenant serves both lanes without any Authorization header', async () => {
    const { tenant } = await provisionTenant({ auth: "none", servers: ["notes"] });
    expect((await adminOk("GET", `/tenants/${tenant}`)).auth).toBe("none");

    const session = await openSession(mcpUrl(tenant, "notes"), null);
    const added = await callTool(session, "add_note", { title: "public", body: "" });
    expect((await listSessions(tenant)).map((s) => s.keyId)).toEqual([null]);

    const listed = await statelessTool(mcpUrl(tenant, "notes"), null, "list_notes");
    expect(listed.structuredContent.notes.map((n: { id: string }) => n.id)).toEqual([added.structuredContent.id]);
  });

  it('auth:public-tenants — `auth: "none"` is refused (400) when SMCP_ALLOW_PUBLIC_TENANTS is not true', async () => {
    const id = uniqueName("public");
    const request = () =>
      new Request(`${ORIGIN}/admin/v1/tenants`, {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
        body: JSON.stringify({ id, auth: "none" }),
      });
    for (const flag of ["false", undefined]) {
      const res = await worker.fetch(request(), { ...env, SMCP_ALLOW_PUBLIC_TENANTS: flag });
      await expectAdminError(res, 400, "public_tenants_disabled");
    }
    await expectAdminError(await admin("GET", `/tenants/${id}`), 404, "unknown_tenant");
  });
});
