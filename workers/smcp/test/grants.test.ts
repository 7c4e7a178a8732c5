// Grants admins can see (issue 15 item 3): `GET /admin/v1/tenants/{t}/grants` lists the
// live OAuth grants with who approved them and when they were last used (to the hour),
// `DELETE .../grants/{g}` revokes one and ends its sessions and streams at once. The
// grants come from the real flow (oauth-helpers.ts): registration, the approval page,
// PKCE and the token endpoint.
import { runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "@smcp/runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TenantDO } from "../src/tenant-do";
import { LAST_USED_PERIOD_MS } from "../src/oauth/grant-store";
import { REFRESH_TOKEN_TTL_MS } from "../src/oauth/tokens";
import { SseReader, admin, adminOk, expectRpcError, initializeParams, listSessions, mcpFetch, mcpUrl, openSession, provisionTenant, rpc, taskFetch, tenantObject } from "./helpers";
import { REDIRECT_URI, oauthError, tokenRequest, tokensFor } from "./oauth-helpers";

const HOUR = LAST_USED_PERIOD_MS;

async function auditOf(tenant: string): Promise<any[]> {
  return (await adminOk("GET", `/tenants/${tenant}/audit?limit=500`)).entries;
}

/** The grant the last `oauth.authorized` row of the tenant names. */
async function lastGrantId(tenant: string): Promise<string> {
  return (await auditOf(tenant)).filter((e) => e.action === "oauth.authorized").at(-1).target;
}

const listGrants = async (tenant: string, query = "") => adminOk("GET", `/tenants/${tenant}/grants${query}`);

const initialize = (url: string, token: string) => mcpFetch(url, { key: token, body: rpc("initialize", initializeParams("2025-11-25")) });

afterEach(() => {
  vi.useRealTimers();
});

describe("grants admins can see", () => {
  it("platform:grants isolation:tenants — the list shows exactly the tenant's live grant, and never another tenant's", async () => {
    const a = await provisionTenant({ prefix: "gr" });
    const b = await provisionTenant({ prefix: "gr" });
    await tokensFor(b, "notes");
    // A frozen clock, so every time field is exact.
    const now = Math.floor(Date.now() / HOUR) * HOUR + 3 * HOUR + 17 * 60_000 + 123;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now);
    const tokens = await tokensFor(a, "notes");
    const grantId = await lastGrantId(a.tenant);

    const listed = await listGrants(a.tenant);
    expect(listed).toEqual({
      grants: [
        {
          seq: expect.any(Number),
          id: grantId,
          client: { id: tokens.client.client_id, name: "workerd tests" },
          approver: { keyId: a.keyId, subject: null, email: null },
          server: "notes",
          createdAt: now,
          // Redeeming the code is a use; kept to the hour.
          lastUsedAt: now - (now % HOUR),
          expiresAt: now + REFRESH_TOKEN_TTL_MS,
        },
      ],
      next: null,
    });
    // b's grant is b's alone.
    const bGrant = await lastGrantId(b.tenant);
    expect((await listGrants(b.tenant)).grants.map((g: { id: string }) => g.id)).toEqual([bGrant]);
    expect(JSON.stringify(listed)).not.toContain(bGrant);
    // Nor can a's path revoke it.
    const res = await admin("DELETE", `/tenants/${a.tenant}/grants/${bGrant}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe("unknown_grant");
    expect((await listGrants(b.tenant)).grants).toHaveLength(1);
  });

  it("platform:grants routes:admin — paged like the other admin lists; a grant whose key was revoked is not listed", async () => {
    const t = await provisionTenant({ prefix: "gr" });
    for (let i = 0; i < 3; i++) await tokensFor(t, "notes");
    const first = await listGrants(t.tenant, "?limit=2");
    expect(first.grants).toHaveLength(2);
    expect(first.next).toBe(first.grants[1].seq);
    const second = await listGrants(t.tenant, `?after=${first.next}&limit=2`);
    expect(second.grants).toHaveLength(1);
    expect(second.next).toBeNull();
    const all = [...first.grants, ...second.grants].map((g) => g.id);
    expect(new Set(all).size).toBe(3);
    const bad = await admin("GET", `/tenants/${t.tenant}/grants?limit=0`);
    expect(bad.status).toBe(400);
    await bad.body?.cancel();

    await adminOk("DELETE", `/tenants/${t.tenant}/keys/${t.keyId}`);
    expect((await listGrants(t.tenant)).grants).toEqual([]);
  });

  it("platform:grants platform:oauth — revoking a grant ends its open stream and session at once, and its tokens stop working", async () => {
    const t = await provisionTenant({ prefix: "gr" });
    const tokens = await tokensFor(t, "notes");
    const grantId = await lastGrantId(t.tenant);
    const other = await tokensFor(t, "notes");
    const session = await openSession(mcpUrl(t.tenant, "notes"), tokens.access_token);
    const kept = await openSession(mcpUrl(t.tenant, "notes"), other.access_token);
    const stream = await mcpFetch(mcpUrl(t.tenant, "notes"), { method: "GET", key: tokens.access_token, sessionId: session.sessionId, protocolVersion: "2025-11-25" });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // the priming event

    const revoked = await adminOk("DELETE", `/tenants/${t.tenant}/grants/${grantId}`);
    expect(revoked).toEqual({ revoked: grantId, alreadyRevoked: false, sessionsEnded: 1, sessionsFailed: [] });
    // The stream ends: read it to its end.
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    const live = (await listSessions(t.tenant)).map((s) => s.id);
    expect(live).not.toContain(session.sessionId);
    expect(live).toContain(kept.sessionId);

    // The access token, the refresh token and the grant are gone; the other grant is untouched.
    await expectRpcError(await initialize(mcpUrl(t.tenant, "notes"), tokens.access_token), 401);
    await oauthError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: tokens.client.client_id }),
      400,
      "invalid_grant",
    );
    expect((await listGrants(t.tenant)).grants.map((g: { id: string }) => g.id)).not.toContain(grantId);
    expect((await initialize(mcpUrl(t.tenant, "notes"), other.access_token)).status).toBe(200);

    // The session's end names who and why; the revocation is audited as the admin's.
    const audit = await auditOf(t.tenant);
    expect(audit.filter((e) => e.action === "oauth.revoked")).toEqual([
      expect.objectContaining({ actor: "admin", target: grantId, detail: { reason: "revoked by an admin", client: tokens.client.client_id } }),
    ]);
    expect(audit.find((e) => e.action === "session.ended" && e.target === session.sessionId)).toMatchObject({
      detail: { cause: `grant ${grantId} revoked by an admin` },
    });

    // A repeat is the re-drive (200, nothing left to end); an unknown grant is 404.
    expect(await adminOk("DELETE", `/tenants/${t.tenant}/grants/${grantId}`)).toEqual({ revoked: grantId, alreadyRevoked: true, sessionsEnded: 0, sessionsFailed: [] });
    expect((await auditOf(t.tenant)).filter((e) => e.action === "oauth.revoked")).toHaveLength(1);
    const unknown = await admin("DELETE", `/tenants/${t.tenant}/grants/grant_nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe("unknown_grant");
    const noTenant = await admin("DELETE", `/tenants/no-such-tenant-gr/grants/${grantId}`);
    expect(noTenant.status).toBe(404);
    expect(((await noTenant.json()) as any).error.code).toBe("unknown_tenant");
  });

  it("platform:grants auth:revoke-10s — revoking a grant ends its open subscriptions/listen stream (stateless lane, no session) with an error for the listen's id", async () => {
    const t = await provisionTenant({ prefix: "gr-listen" });
    const tokens = await tokensFor(t, "everything");
    const grantId = await lastGrantId(t.tenant);
    const reader = new SseReader(await taskFetch(mcpUrl(t.tenant, "everything"), tokens.access_token, "subscriptions/listen", { notifications: { toolsListChanged: true } }));
    const messages: any[] = [];
    const first = await reader.next();
    expect(JSON.parse(first!.data).method).toBe("notifications/subscriptions/acknowledged");
    await adminOk("DELETE", `/tenants/${t.tenant}/grants/${grantId}`);
    for (let event = await reader.next(); event; event = await reader.next()) if (event.data) messages.push(JSON.parse(event.data));
    expect(messages.at(-1)).toMatchObject({ id: expect.anything(), error: { code: -32600, message: expect.stringMatching(/revoked or expired/) } });
  });

  it("platform:grants auth:tenant-admin-keys — a tenant admin key lists and revokes its tenant's grants, audited as that key", async () => {
    const t = await provisionTenant({ prefix: "gr" });
    await tokensFor(t, "notes");
    const grantId = await lastGrantId(t.tenant);
    const adminKey = await adminOk("POST", `/tenants/${t.tenant}/admin-keys`, { label: "ops" }, 201);
    const listed = await admin("GET", `/tenants/${t.tenant}/grants`, undefined, adminKey.key);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as any).grants.map((g: { id: string }) => g.id)).toEqual([grantId]);
    const revoked = await admin("DELETE", `/tenants/${t.tenant}/grants/${grantId}`, undefined, adminKey.key);
    expect(revoked.status).toBe(200);
    await revoked.body?.cancel();
    expect((await auditOf(t.tenant)).find((e) => e.action === "oauth.revoked")).toMatchObject({ actor: `admin-key:${adminKey.id}`, target: grantId });
  });

  it("platform:grants — last use is written at most once an hour per grant, however often its token is checked or refreshed", async () => {
    const t = await provisionTenant({ prefix: "gr" });
    // Counts every write of last_used_at in this tenant's own database.
    await runInDurableObject(tenantObject(t.tenant), async (_o: TenantDO, state) => {
      state.storage.sql.exec(`
        CREATE TABLE test_touches (at INTEGER);
        CREATE TRIGGER test_count_touches AFTER UPDATE OF last_used_at ON oauth_grants BEGIN INSERT INTO test_touches VALUES (NEW.last_used_at); END;`);
    });
    const touches = () =>
      runInDurableObject(tenantObject(t.tenant), async (_o: TenantDO, state) => state.storage.sql.exec<{ at: number }>("SELECT at FROM test_touches").toArray().map((r) => r.at));

    const hour = Math.floor(Date.now() / HOUR) * HOUR + 5 * HOUR;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(hour + 10 * 60_000);
    const tokens = await tokensFor(t, "notes");
    const check = { tokenHash: await sha256Hex(tokens.access_token), server: "notes", resource: mcpUrl(t.tenant, "notes") };
    // The Worker caches decisions, so the tenant is asked here directly, as on every cache miss.
    const checkTimes = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await tenantObject(t.tenant).oauthCheckAccess(check)).ok).toBe(true);
    };
    await checkTimes(10);
    vi.setSystemTime(hour + 50 * 60_000);
    await checkTimes(10);
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: tokens.client.client_id });
    expect(refreshed.status).toBe(200);
    await refreshed.body?.cancel();
    // The redemption of the code wrote the hour once; 20 checks and a refresh in that hour wrote nothing.
    expect(await touches()).toEqual([hour]);

    vi.setSystemTime(hour + HOUR + 60_000);
    await checkTimes(10);
    expect(await touches()).toEqual([hour, hour + HOUR]);
    expect((await listGrants(t.tenant)).grants[0].lastUsedAt).toBe(hour + HOUR);
  });
});
