/**
 * Multi-object operations can be re-driven (issue 10, item 14): a tenant delete or
 * create that failed half-way is finished by sending the same request again, a key
 * revocation whose session terminations partly fail says so and keeps the key
 * revoked, and version pruning never removes a version a live session runs.
 *
 * How a step is made to fail, with no mock of storage or of the runtime:
 * - A session that does not answer: the test holds the real session object in
 *   `blockConcurrencyWhile` (entered through `runInDurableObject`), so every event
 *   for it, `terminate()` included, waits behind the block. The tenant gives each
 *   termination `SMCP_SESSION_END_TIMEOUT_MS` (1 s in vitest.config.ts), then reports
 *   it as failed. When the test lets the block go, the object goes on normally.
 * - A sequence stopped between its steps: the test calls the first step on the real
 *   tenant object (its RPC method, through a stub) and not the next ones, which is
 *   the state a Worker that died between them leaves; then the admin API re-drives.
 * The end state is read from the real objects: the directory's list, the tenant's
 * storage and each session object's storage.
 */
import { SELF, env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ADMIN_TOKEN,
  EMPTY_STORAGE,
  ORIGIN,
  admin,
  adminOk,
  callTool,
  expectRpcError,
  holdSession,
  listSessions,
  mcpUrl,
  openSession,
  provisionTenant,
  rpc,
  send,
  sessionStub,
  storageOf,
  tenantObject,
  textOf,
} from "./helpers";

const directoryIds = () => env.DIRECTORY.get(env.DIRECTORY.idFromName("directory")).list();


async function expectAdminError(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(JSON.parse(text).error.code).toBe(code);
  return JSON.parse(text).error.message;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("tenant delete", () => {
  it("platform:redrive — a session that does not end stops the delete with 503; DELETE again finishes it (sessions, directory entry, storage gone)", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const healthy = await openSession(mcpUrl(tenant, "notes"), key);
    const stuck = await openSession(mcpUrl(tenant, "notes"), key);
    const hold = await holdSession(tenant, "notes", stuck.sessionId);

    const message = await expectAdminError(await admin("DELETE", `/tenants/${tenant}`), 503, "tenant_delete_incomplete");
    expect(message).toContain(stuck.sessionId);
    // Half-way: the tenant admits nothing and is hidden, but it is not gone, and neither is its directory entry.
    await expectAdminError(await admin("GET", `/tenants/${tenant}`), 404, "unknown_tenant");
    expect(await directoryIds()).toContain(tenant);
    expect(await storageOf(sessionStub(tenant, "notes", healthy.sessionId))).toEqual(EMPTY_STORAGE);
    await expectAdminError(await admin("POST", "/tenants", { id: tenant }), 409, "tenant_deleting");

    hold.release();
    expect(await adminOk("DELETE", `/tenants/${tenant}`)).toEqual({ deleted: tenant, sessionsEnded: 2 });
    expect(await directoryIds()).not.toContain(tenant);
    expect(await storageOf(sessionStub(tenant, "notes", stuck.sessionId))).toEqual(EMPTY_STORAGE);
    expect(await storageOf(tenantObject(tenant))).toEqual(EMPTY_STORAGE);
    await expectAdminError(await admin("DELETE", `/tenants/${tenant}`), 404, "unknown_tenant");
  });

  it("platform:redrive — a delete whose Worker stopped after the first step is finished by DELETE again", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    // Step one only (mark, end sessions), as a Worker that died before the directory step leaves it.
    const begun = await tenantObject(tenant).beginDestroy();
    expect(begun).toEqual({ ok: true, sessionsEnded: 1, sessionsFailed: [] });
    expect(await directoryIds()).toContain(tenant);

    expect(await adminOk("DELETE", `/tenants/${tenant}`)).toEqual({ deleted: tenant, sessionsEnded: 1 });
    expect(await directoryIds()).not.toContain(tenant);
    expect(await storageOf(tenantObject(tenant))).toEqual(EMPTY_STORAGE);
    expect(await storageOf(sessionStub(tenant, "notes", session.sessionId))).toEqual(EMPTY_STORAGE);
  });
});

describe("tenant create", () => {
  it("platform:redrive — the same POST again completes the directory entry (200); other settings still get 409", async () => {
    const id = `half-${crypto.randomUUID().slice(0, 8)}`;
    const body = { id, name: "Half Made", auth: "key" as const, limits: { maxSessions: 5 } };
    // Step one only: the tenant object exists, the directory never heard of it.
    const made = await tenantObject(id).create({ id, name: body.name, auth: body.auth, limits: body.limits });
    expect(made.ok).toBe(true);
    expect((await adminOk("GET", "/tenants")).tenants.map((t: { id: string }) => t.id)).not.toContain(id);

    const repeated = await adminOk("POST", "/tenants", body, 200);
    expect(repeated).toEqual({ id, name: "Half Made", auth: "key", limits: { maxSessions: 5 }, createdAt: expect.any(Number) });
    expect((await adminOk("GET", "/tenants")).tenants).toContainEqual(repeated);
    // Same settings, keys in another order: the same tenant. Different settings: a conflict.
    await adminOk("POST", "/tenants", { limits: { maxSessions: 5 }, auth: "key", name: "Half Made", id }, 200);
    await expectAdminError(await admin("POST", "/tenants", { ...body, name: "Other" }), 409, "tenant_exists");
    await expectAdminError(await admin("POST", "/tenants", { ...body, limits: {} }), 409, "tenant_exists");
  });
});

describe("key revocation", () => {
  it("platform:redrive — terminations that fail are reported, the key stays revoked, and revoking again ends the rest", async () => {
    const { tenant, key, keyId } = await provisionTenant({ servers: ["notes"] });
    const ended = await openSession(mcpUrl(tenant, "notes"), key);
    const stuck = await openSession(mcpUrl(tenant, "notes"), key);
    const hold = await holdSession(tenant, "notes", stuck.sessionId);

    const first = await adminOk("DELETE", `/tenants/${tenant}/keys/${keyId}`);
    expect(first).toEqual({ revoked: keyId, alreadyRevoked: false, sessionsEnded: 1, sessionsFailed: [stuck.sessionId] });
    const listed = (await adminOk("GET", `/tenants/${tenant}/keys`)).keys.find((k: { id: string }) => k.id === keyId);
    expect(listed.revokedAt).toEqual(expect.any(Number));
    expect(await storageOf(sessionStub(tenant, "notes", ended.sessionId))).toEqual(EMPTY_STORAGE);
    expect((await listSessions(tenant)).map((s) => s.id)).toEqual([stuck.sessionId]);
    const audit = (await adminOk("GET", `/tenants/${tenant}/audit?limit=500`)).entries as { action: string; detail: any }[];
    expect(audit.find((e) => e.action === "key.revoke-incomplete")?.detail).toEqual({ failed: 1, sessions: [stuck.sessionId] });

    hold.release();
    const again = await adminOk("DELETE", `/tenants/${tenant}/keys/${keyId}`);
    expect(again).toEqual({ revoked: keyId, alreadyRevoked: true, sessionsEnded: expect.any(Number), sessionsFailed: [] });
    expect(await listSessions(tenant)).toEqual([]);
    expect(await storageOf(sessionStub(tenant, "notes", stuck.sessionId))).toEqual(EMPTY_STORAGE);
    await expectRpcError(await send(stuck, rpc("ping")), 404);
  });
});

describe("version pruning", () => {
  const moduleSource = (n: number) => `
export default { tools: [{ name: "which", description: "says its version", inputSchema: { type: "object" }, async handler() { return "version ${n}"; } }] };
`;

  async function deployOk(tenant: string, server: string, source: string): Promise<{ version: number }> {
    const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
      body: source,
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    return JSON.parse(text);
  }

  const versionsOf = async (tenant: string, server: string) =>
    ((await adminOk("GET", `/tenants/${tenant}/servers/${server}/deployments`)).deployments as { version: number }[]).map((d) => d.version);

  it("deployed:instances platform:redrive — 21 newer deploys do not prune the version a live session runs (older ones go); once it has ended, they do", async () => {
    const { tenant, key } = await provisionTenant({ servers: [] });
    // The clock is moved, never waited for: pruning keeps versions retired within the 5 s deployment cache.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now());
    expect((await deployOk(tenant, "pinned", moduleSource(1))).version).toBe(1);
    expect((await deployOk(tenant, "pinned", moduleSource(2))).version).toBe(2);
    vi.setSystemTime(Date.now() + 6_000);
    // v1 was retired before this session existed; v2 is what it runs.
    const session = await openSession(mcpUrl(tenant, "pinned"), key);
    expect(textOf(await callTool(session, "which"))).toBe("version 2");

    // Newer versions through the tenant object's own deploy step (the admin route adds only the sandbox check).
    const stored = await tenantObject(tenant).deploymentGet("pinned", 2, false);
    if (!stored.ok || !stored.value) throw new Error("version 2 not stored");
    for (let n = 3; n <= 22; n++) {
      const source = moduleSource(n);
      const bytes = new TextEncoder().encode(source);
      const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
      const created = await tenantObject(tenant).deploymentCreate("pinned", { hash, size: bytes.byteLength, source, manifestJson: stored.value.manifestJson });
      expect(created.ok).toBe(true);
    }
    // 22 versions, 20 kept by count; of the two beyond, v1 goes and v2 (the live session's) stays.
    const versions = await versionsOf(tenant, "pinned");
    expect(versions).toContain(2);
    expect(versions).not.toContain(1);
    const v2 = await tenantObject(tenant).deploymentGet("pinned", 2, true);
    expect(v2.ok && v2.value?.source).toBe(moduleSource(2));
    expect(textOf(await callTool(session, "which"))).toBe("version 2");

    // The session ends; past the deployment cache time, the next deploy prunes down to the newest 20.
    const del = await send(session, undefined, { method: "DELETE" });
    expect(del.status).toBe(200);
    await del.body?.cancel();
    expect(await listSessions(tenant)).toEqual([]);
    vi.setSystemTime(Date.now() + 6_000);
    await deployOk(tenant, "pinned", moduleSource(23));
    const after = await versionsOf(tenant, "pinned");
    expect(after).toHaveLength(20);
    expect(after).not.toContain(2);
  });
});
