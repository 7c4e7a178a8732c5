/**
 * SPEC section 4, issue 12 item 2: tenant admin keys. Created by the platform (or the
 * tenant's own admin keys), shown once and stored as a digest; they manage their own
 * tenant through the admin API (servers, keys, sessions, deployments, audit) and are
 * refused everywhere else with 403; revocation is immediate; actions are audited as
 * the key; strangers' random admin keys are aggregated like every failed auth.
 */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "@smcp/runtime";
import { describe, expect, it } from "vitest";
import converterSource from "../../../examples/unit-converter.js?raw";
import { MAX_LIVE_ADMIN_KEYS } from "../src/tenant/admin-keys";
import {
  EMPTY_STORAGE,
  ORIGIN,
  admin,
  adminOk,
  callTool,
  mcpFetch,
  mcpUrl,
  openSession,
  provisionTenant,
  rpc,
  storageOf,
  tenantConfig,
  uniqueName,
} from "./helpers";

const tenantObject = (tenant: string) => env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`));

/** An admin call with `token`; `{status, body}` with the body parsed. */
async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await admin(method, path, body, token);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** An admin call with `token` that must answer `status`. */
async function ok(token: string, method: string, path: string, body?: unknown, status = 200): Promise<any> {
  const res = await call(token, method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
  return res.body;
}

async function newAdminKey(tenant: string, label = "ops"): Promise<{ id: string; key: string }> {
  return adminOk("POST", `/tenants/${tenant}/admin-keys`, { label }, 201);
}

async function auditOf(tenant: string): Promise<any[]> {
  return (await adminOk("GET", `/tenants/${tenant}/audit?limit=500`)).entries;
}

const random43 = () => {
  let binary = "";
  for (const b of crypto.getRandomValues(new Uint8Array(32))) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const otherTenantRefusal = (own: string) => ({ error: { code: "forbidden", message: `This admin key manages tenant ${own} only` } });
const platformRefusal = (own: string, what: string) => ({
  error: { code: "forbidden", message: `${what} needs the platform admin token (SMCP_ADMIN_TOKEN); a tenant admin key manages only its own tenant (${own})` },
});

describe("tenant admin keys", () => {
  it("auth:tenant-admin-keys auth:keys-hashed — created with the platform token, shown once, stored only as its SHA-256", async () => {
    const t = await provisionTenant({ prefix: "ak-create", servers: [] });
    const created = await adminOk("POST", `/tenants/${t.tenant}/admin-keys`, { label: "ci deploys" }, 201);
    expect(created).toEqual({ id: expect.stringMatching(/^ak_[A-Za-z0-9_-]{12}$/), label: "ci deploys", createdAt: expect.any(Number), revokedAt: null, key: expect.any(String) });
    expect(created.key).toMatch(new RegExp(`^smcp_ak_${t.tenant}\\.[A-Za-z0-9_-]{43}$`));

    const listed = await admin("GET", `/tenants/${t.tenant}/admin-keys`);
    const text = await listed.text();
    expect(text).not.toContain(created.key.split(".")[1]);
    expect(JSON.parse(text)).toEqual({ adminKeys: [{ id: created.id, label: "ci deploys", createdAt: created.createdAt, revokedAt: null }] });

    const rows = await runInDurableObject(tenantObject(t.tenant), (_i, state) => state.storage.sql.exec("SELECT * FROM admin_keys").toArray());
    expect(rows).toEqual([{ id: created.id, label: "ci deploys", hash: await sha256Hex(created.key), created_at: created.createdAt, revoked_at: null }]);

    const row = (await auditOf(t.tenant)).find((e) => e.action === "admin-key.created");
    expect(row).toMatchObject({ actor: "admin", target: created.id, detail: { label: "ci deploys" } });
    expect(JSON.stringify(await auditOf(t.tenant))).not.toContain(created.key.split(".")[1]);
  });

  it("auth:tenant-admin-keys admin:servers admin:keys admin:sessions — manages its own servers, keys and sessions; its actions are audited as the key", async () => {
    const t = await provisionTenant({ prefix: "ak-manage", servers: [] });
    const { id, key } = await newAdminKey(t.tenant);
    const T = `/tenants/${t.tenant}`;

    expect(await ok(key, "GET", T)).toMatchObject({ id: t.tenant, auth: "key" });
    expect(await ok(key, "PUT", `${T}/servers/notes`, undefined, 201)).toEqual({ server: "notes", enabled: true });
    expect((await ok(key, "GET", `${T}/servers`)).servers.map((s: any) => s.name)).toEqual(["notes"]);
    const tenantKey = await ok(key, "POST", `${T}/keys`, { label: "client" }, 201);
    expect((await ok(key, "GET", `${T}/keys`)).keys.map((k: any) => k.id)).toEqual([t.keyId, tenantKey.id]);

    const session = await openSession(mcpUrl(t.tenant, "notes"), tenantKey.key);
    await callTool(session, "add_note", { title: "hello", body: "from a client" });
    expect((await ok(key, "GET", `${T}/sessions`)).sessions.map((s: any) => [s.id, s.keyId])).toEqual([[session.sessionId, tenantKey.id]]);
    expect(await ok(key, "GET", `${T}/sessions/${session.sessionId}`)).toMatchObject({ id: session.sessionId, server: "notes" });
    expect((await ok(key, "GET", `${T}/sessions/${session.sessionId}/events`)).events.length).toBeGreaterThan(0);
    expect((await ok(key, "GET", `${T}/sessions/${session.sessionId}/requests`)).requests.map((r: any) => r.method)).toContain("tools/call");
    expect(await ok(key, "DELETE", `${T}/sessions/${session.sessionId}`)).toEqual({ terminated: session.sessionId });
    expect((await ok(key, "GET", `${T}/sessions`)).sessions).toEqual([]);

    expect(await ok(key, "DELETE", `${T}/keys/${tenantKey.id}`)).toMatchObject({ revoked: tenantKey.id, alreadyRevoked: false });
    expect(await ok(key, "DELETE", `${T}/servers/notes`)).toEqual({ server: "notes", enabled: false });

    const actors = (await auditOf(t.tenant)).map((e) => [e.actor, e.action, e.target]);
    const me = `admin-key:${id}`;
    expect(actors).toEqual(
      expect.arrayContaining([
        ["admin", "admin-key.created", id],
        [me, "server.enabled", "notes"],
        [me, "key.created", tenantKey.id],
        [me, "session.ended", session.sessionId],
        [me, "key.revoked", tenantKey.id],
        [me, "server.disabled", "notes"],
      ]),
    );
    // The platform's own actions in the same log stay `admin`.
    expect(actors.filter(([actor]) => actor === "admin").map(([, action]) => action)).toEqual(["tenant.created", "key.created", "admin-key.created"]);
  });

  it("auth:tenant-admin-keys deployed:deployments-api — deploys, lists, rolls back and sets egress of its own deployed server", async () => {
    const t = await provisionTenant({ prefix: "ak-deploy", servers: [] });
    const { id, key } = await newAdminKey(t.tenant);
    const S = `/tenants/${t.tenant}/servers/units`;
    const put = (source: string) =>
      SELF.fetch(`${ORIGIN}/admin/v1${S}/deployments`, { method: "PUT", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/javascript" }, body: source });
    const first = await put(converterSource);
    expect(first.status, await first.clone().text()).toBe(201);
    expect(await first.json()).toMatchObject({ server: "units", version: 1, status: "active", tools: ["convert", "list_units"] });
    const second = await put(`${converterSource}\n// v2\n`);
    expect(second.status).toBe(201);
    expect((await ok(key, "GET", `${S}/deployments`)).deployments.map((d: any) => [d.version, d.status])).toEqual([
      [2, "active"],
      [1, "inactive"],
    ]);
    expect(await ok(key, "POST", `${S}/deployments/1/activate`)).toMatchObject({ server: "units", version: 1, status: "active" });
    expect(await ok(key, "PUT", `${S}/egress`, { allow: ["api.example.com"] })).toEqual({ server: "units", egress: ["api.example.com"] });
    expect(await ok(key, "GET", S)).toMatchObject({ server: "units", kind: "deployed", version: 1, egress: ["api.example.com"] });

    const client = await adminOk("POST", `/tenants/${t.tenant}/keys`, { label: "c" }, 201);
    const session = await openSession(mcpUrl(t.tenant, "units"), client.key);
    expect((await callTool(session, "convert", { value: 212, from: "f", to: "c" })).structuredContent).toEqual({ value: 100, unit: "c" });

    const me = `admin-key:${id}`;
    expect((await auditOf(t.tenant)).filter((e) => e.actor === me).map((e) => [e.action, e.target])).toEqual([
      ["deployment.created", "units"],
      ["deployment.created", "units"],
      ["deployment.activated", "units"],
      ["egress.changed", "units"],
    ]);
  });

  it("auth:tenant-admin-keys admin:audit — reads, verifies, checkpoints and exports its own audit log, but may not drop it", async () => {
    const t = await provisionTenant({ prefix: "ak-audit", servers: [] });
    const { id, key } = await newAdminKey(t.tenant);
    const T = `/tenants/${t.tenant}`;
    expect((await ok(key, "GET", `${T}/audit`)).entries.map((e: any) => e.action)).toContain("admin-key.created");
    expect(await ok(key, "GET", `${T}/audit/verify`)).toMatchObject({ ok: true });
    const { checkpoint } = await ok(key, "POST", `${T}/audit/checkpoints`, undefined, 201);
    expect((await ok(key, "GET", `${T}/audit/checkpoints`)).checkpoints.map((c: any) => c.seq)).toEqual([checkpoint.seq]);
    const exported = await SELF.fetch(`${ORIGIN}/admin/v1${T}/audit/export?through=${checkpoint.seq}`, { headers: { Authorization: `Bearer ${key}` } });
    expect(exported.status).toBe(200);
    expect(((await exported.json()) as { entries: unknown[] }).entries).toHaveLength(checkpoint.seq);

    const drop = await call(key, "DELETE", `${T}/audit?through=${checkpoint.seq}`);
    expect(drop).toEqual({ status: 403, body: platformRefusal(t.tenant, "Dropping audit entries") });
    expect((await auditOf(t.tenant)).filter((e) => e.actor === `admin-key:${id}`).map((e) => e.action)).toEqual(["audit.checkpointed", "audit.exported"]);
  });

  it("auth:tenant-admin-keys isolation:tenants — refused on another tenant (existing or not, the same 403) and on platform routes; nothing changes", async () => {
    const own = await provisionTenant({ prefix: "ak-own", servers: [] });
    const neighbour = await provisionTenant({ prefix: "ak-neighbour", servers: ["notes"] });
    const { key } = await newAdminKey(own.tenant);
    const missing = uniqueName("ak-missing");

    for (const other of [neighbour.tenant, missing]) {
      for (const [method, path, body] of [
        ["GET", `/tenants/${other}`],
        ["GET", `/tenants/${other}/keys`],
        ["POST", `/tenants/${other}/keys`, { label: "mine now" }],
        ["PUT", `/tenants/${other}/servers/everything`],
        ["GET", `/tenants/${other}/sessions`],
        ["GET", `/tenants/${other}/audit`],
        ["POST", `/tenants/${other}/admin-keys`, {}],
        ["GET", `/tenants/${other}/no-such-route`],
      ] as [string, string, unknown?][]) {
        expect(await call(key, method, path, body), `${method} ${path}`).toEqual({ status: 403, body: otherTenantRefusal(own.tenant) });
      }
    }
    const T = `/tenants/${own.tenant}`;
    for (const [method, path, body, what] of [
      ["GET", "/tenants", undefined, "GET /admin/v1/tenants"],
      ["POST", "/tenants", { id: missing }, "POST /admin/v1/tenants"],
      ["GET", "/health", undefined, "GET /admin/v1/health"],
      ["GET", "/no-such-route", undefined, "GET /admin/v1/no-such-route"],
      ["PATCH", T, { limits: { maxSessions: 1000 } }, "Changing a tenant's limits"],
      ["DELETE", T, undefined, "Deleting a tenant"],
    ] as [string, string, unknown, string][]) {
      expect(await call(key, method, path, body), `${method} ${path}`).toEqual({ status: 403, body: platformRefusal(own.tenant, what) });
    }

    // Nothing was created, changed or deleted.
    expect((await adminOk("GET", `/tenants/${neighbour.tenant}/keys`)).keys.map((k: any) => k.id)).toEqual([neighbour.keyId]);
    expect((await adminOk("GET", `/tenants/${neighbour.tenant}/servers`)).servers.map((s: any) => s.name)).toEqual(["notes"]);
    expect((await admin("GET", `/tenants/${missing}`)).status).toBe(404);
    expect(await storageOf(tenantObject(missing))).toEqual(EMPTY_STORAGE);
    expect((await adminOk("GET", T)).limits).toEqual({});
    // The neighbour's audit log has no trace of the attempts.
    expect((await auditOf(neighbour.tenant)).map((e) => e.actor)).toEqual(["admin", "admin", "admin"]);
    // Its own tenant still works with it, and the platform token everywhere.
    expect(await ok(key, "GET", `${T}/servers`)).toMatchObject({ servers: [] });
    expect((await adminOk("GET", "/tenants")).tenants.map((x: any) => x.id)).toEqual(expect.arrayContaining([own.tenant, neighbour.tenant]));
  });

  it("auth:tenant-admin-keys — behind the router, the tenant object itself runs no platform-only or non-RPC method for a key", async () => {
    const t = await provisionTenant({ prefix: "ak-methods", servers: [] });
    const { id } = await newAdminKey(t.tenant);
    const caller = { keyId: id, incarnation: (await tenantConfig(t.tenant))!.incarnation };
    const stub = tenantObject(t.tenant);
    for (const method of ["setLimits", "create", "beginDestroy", "finishDestroy", "auditDrop", "alarm", "fetch", "adminKeyCall", "constructor", "toString", "__proto__", "nope"]) {
      expect(await stub.adminKeyCall(caller, method, [{ maxSessions: 1 }]), method).toEqual({ ok: false, reason: "platform-only" });
    }
    expect(await stub.adminKeyCall(caller, "listServers", [])).toEqual({ ok: true, value: { ok: true, servers: [] } });
    expect(await stub.adminKeyCall({ ...caller, incarnation: "another" }, "listServers", [])).toEqual({ ok: false, reason: "invalid-admin-key" });
    expect(await stub.adminKeyCall({ ...caller, keyId: "ak_forged" }, "listServers", [])).toEqual({ ok: false, reason: "invalid-admin-key" });
    expect((await tenantConfig(t.tenant))!.limits).toEqual({});
  });

  it("auth:tenant-admin-keys auth:revoke-10s — a revoked admin key is refused at once, even by an isolate whose cache still holds it", async () => {
    const t = await provisionTenant({ prefix: "ak-revoke", servers: [] });
    const first = await newAdminKey(t.tenant, "first");
    const second = await newAdminKey(t.tenant, "second");
    const T = `/tenants/${t.tenant}`;
    const refused = { status: 401, body: { error: { code: "unauthorized", message: "Invalid or revoked tenant admin key" } } };

    // A tenant rotates its own keys: the second revokes the first.
    await ok(first.key, "GET", `${T}/servers`);
    expect(await ok(second.key, "DELETE", `${T}/admin-keys/${first.id}`)).toEqual({ revoked: first.id, alreadyRevoked: false });
    expect(await call(first.key, "GET", `${T}/servers`)).toEqual(refused);
    expect(await ok(second.key, "DELETE", `${T}/admin-keys/${first.id}`)).toEqual({ revoked: first.id, alreadyRevoked: true });

    // Revoked behind this isolate's back (as another isolate would): this isolate still
    // caches the key as valid, and the tenant object refuses it at its next call.
    await ok(second.key, "GET", `${T}/servers`);
    await runInDurableObject(tenantObject(t.tenant), (_i, state) => {
      state.storage.sql.exec("UPDATE admin_keys SET revoked_at = ? WHERE id = ?", Date.now(), second.id);
    });
    expect(await call(second.key, "PUT", `${T}/servers/notes`)).toEqual(refused);
    expect((await adminOk("GET", `${T}/servers`)).servers).toEqual([]);
    expect(await call(second.key, "GET", `${T}/servers`)).toEqual(refused);

    expect((await adminOk("GET", `${T}/admin-keys`)).adminKeys.map((k: any) => [k.id, k.revokedAt === null])).toEqual([
      [first.id, false],
      [second.id, false],
    ]);
    const rows = (await auditOf(t.tenant)).filter((e) => e.action === "admin-key.revoked");
    expect(rows.map((e) => [e.actor, e.target])).toEqual([[`admin-key:${second.id}`, first.id]]);
    expect(await call(second.key, "DELETE", `${T}/admin-keys/nope`)).toEqual(refused);
    expect((await admin("DELETE", `${T}/admin-keys/ak_unknown`)).status).toBe(404);
  });

  it("auth:tenant-admin-keys platform:incarnation — a key of a deleted tenant does not act on a new tenant of the same name", async () => {
    const t = await provisionTenant({ prefix: "ak-reborn", servers: [] });
    const { key } = await newAdminKey(t.tenant);
    await ok(key, "GET", `/tenants/${t.tenant}/servers`);
    await adminOk("DELETE", `/tenants/${t.tenant}`);
    await adminOk("POST", "/tenants", { id: t.tenant }, 201);
    const res = await call(key, "PUT", `/tenants/${t.tenant}/servers/notes`);
    expect(res.status).toBe(401);
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers`)).servers).toEqual([]);
  });

  it("auth:tenant-admin-keys platform:quotas — at most 20 live admin keys per tenant; revoked rows are pruned", async () => {
    const t = await provisionTenant({ prefix: "ak-cap", servers: [] });
    const keys = [];
    for (let i = 0; i < MAX_LIVE_ADMIN_KEYS; i++) keys.push(await newAdminKey(t.tenant, `k${i}`));
    const over = await admin("POST", `/tenants/${t.tenant}/admin-keys`, { label: "one too many" });
    expect(over.status).toBe(409);
    expect(await over.json()).toEqual({
      error: {
        code: "admin_key_limit",
        message: `Tenant ${t.tenant} already has 20 live admin keys, the most it may have; revoke one first (DELETE /admin/v1/tenants/${t.tenant}/admin-keys/{id})`,
      },
    });
    // Rotating in a loop does not grow the table past 20 live + 50 revoked rows.
    for (let i = 0; i < 60; i++) {
      await adminOk("DELETE", `/tenants/${t.tenant}/admin-keys/${keys.shift()!.id}`);
      keys.push(await newAdminKey(t.tenant, `r${i}`));
    }
    const counts = await runInDurableObject(tenantObject(t.tenant), (_i, state) =>
      state.storage.sql.exec<{ live: number; revoked: number }>("SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live, count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked FROM admin_keys").one(),
    );
    expect(counts).toEqual({ live: 20, revoked: 50 });
    expect((await admin("POST", `/tenants/${t.tenant}/admin-keys`, { label: "still full" })).status).toBe(409);
  });

  it("auth:tenant-admin-keys platform:stranger-writes — random smcp_ak_ bearers write one aggregated row; an unknown tenant gets no storage", async () => {
    const victim = await provisionTenant({ prefix: "ak-victim", servers: [] });
    const before = (await auditOf(victim.tenant)).length;
    const missing = uniqueName("ak-nobody");
    const bearers = Array.from({ length: 300 }, (_, n) => `smcp_ak_${n % 3 === 2 ? missing : victim.tenant}.${random43()}`);
    const statuses: number[] = [];
    for (let i = 0; i < bearers.length; i += 50) {
      const batch = await Promise.all(bearers.slice(i, i + 50).map((b, n) => admin("GET", `/tenants/${n % 2 ? victim.tenant : "elsewhere"}/keys`, undefined, b)));
      for (const res of batch) {
        statuses.push(res.status);
        expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Invalid or revoked tenant admin key" } });
      }
    }
    expect(statuses).toEqual(bearers.map(() => 401));
    // Malformed admin keys never reach a Durable Object.
    for (const bad of [`smcp_ak_${victim.tenant}.short`, `smcp_ak_${victim.tenant}${random43()}`, `smcp_ak_BAD.${random43()}`]) {
      expect((await call(bad, "GET", `/tenants/${victim.tenant}/keys`)).body.error.message).toBe("Admin API needs Authorization: Bearer <SMCP_ADMIN_TOKEN> or a tenant admin key");
    }
    expect(await auditOf(victim.tenant)).toHaveLength(before);
    expect(await runDurableObjectAlarm(tenantObject(victim.tenant))).toBe(true);
    const added = (await auditOf(victim.tenant)).slice(before);
    expect(added.map((e) => [e.actor, e.action, e.target, e.detail.count])).toEqual([["anonymous", "auth.failed", "invalid-admin-key", 200]]);
    expect(await storageOf(tenantObject(missing))).toEqual(EMPTY_STORAGE);
  });

  it("auth:tenant-admin-keys routes:mcp — an admin key is not a tenant key: the MCP endpoint refuses it", async () => {
    const t = await provisionTenant({ prefix: "ak-mcp", servers: ["notes"] });
    const { key } = await newAdminKey(t.tenant);
    const res = await mcpFetch(mcpUrl(t.tenant, "notes"), { key, body: rpc("ping") });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
});
