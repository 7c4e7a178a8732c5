/**
 * Grants approved by single sign-on, inside workerd against the real tenant object: what
 * TenantDO.ssoIssueCode records once sso/callback.ts has verified a person (the callback
 * itself, with a real provider, is test/e2e/sso.test.ts), the lifetime cap, the single
 * use of nonces, revocation by subject, and the sealed sign-in state.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { loadKeyring } from "@smcp/runtime";
import { describe, expect, it } from "vitest";
import { mintSecret } from "../src/oauth/tokens";
import { SIGN_IN_CAPPED } from "../src/oauth/grant-store";
import { openSignIn, sealSignIn, type PendingSignIn } from "../src/sso/sign-in-state";
import type { TenantDO } from "../src/tenant-do";
import { adminOk, admin, listSessions, mcpUrl, openSession, provisionTenant, tenantObject, type Tenant } from "./helpers";
import { REDIRECT_URI, oauthError, pkcePair, register, tokenRequest, tokensFor, tokensOk } from "./oauth-helpers";

const ISSUER = "https://login.example.com/sso-grants";

async function withIdentity(allowKeyApproval = false): Promise<{ t: Tenant; updatedAt: number }> {
  const t = await provisionTenant();
  await adminOk("PUT", `/tenants/${t.tenant}/identity`, { issuer: ISSUER, clientId: "smcp", clientSecret: "s", allow: { subjects: ["person-1"] }, allowKeyApproval }, 201);
  const found = await tenantObject(t.tenant).identityGet();
  if (!found.ok || !found.value) throw new Error("identity not stored");
  return { t, updatedAt: found.value.updatedAt };
}

/** What the callback does once the person is verified: a code for them, then the client redeems it. */
async function signedInGrant(t: Tenant, updatedAt: number, options: { subject?: string; nonce?: string; capMs?: number; server?: string } = {}) {
  const client = await register();
  const { verifier, challenge } = await pkcePair();
  const code = await mintSecret("code", t.tenant);
  const server = options.server ?? "notes";
  const issued = await tenantObject(t.tenant).ssoIssueCode(
    {
      codeHash: code.hash,
      clientId: client.client_id,
      clientName: "sso workerd",
      server,
      resource: mcpUrl(t.tenant, server),
      keyId: null,
      person: { subject: options.subject ?? "person-1", email: "p@example.com", maxExpiresAt: Date.now() + (options.capMs ?? 600_000) },
      redirectUri: REDIRECT_URI,
      codeChallenge: challenge,
      scope: "mcp",
    },
    { nonceHash: options.nonce ?? crypto.randomUUID(), nonceExpiresAt: Date.now() + 600_000, issuer: ISSUER, providerClientId: "smcp", identityUpdatedAt: updatedAt },
  );
  const redeem = () =>
    tokenRequest({ grant_type: "authorization_code", code: code.value, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id, resource: mcpUrl(t.tenant, server) });
  return { issued, client, redeem };
}

describe("grants approved by single sign-on", () => {
  it("sso:lifetime-cap — no token outlives the sign-in's cap, and past the cap a refresh is refused", async () => {
    const { t, updatedAt } = await withIdentity();
    const { issued, client, redeem } = await signedInGrant(t, updatedAt, { capMs: 600_000 });
    expect(issued.ok).toBe(true);
    const tokens = await tokensOk(await redeem());
    expect(tokens.expires_in).toBeLessThanOrEqual(600);
    const { grants } = await adminOk("GET", `/tenants/${t.tenant}/grants`);
    expect(grants[0].expiresAt - grants[0].createdAt).toBeLessThanOrEqual(600_000);

    // Time passing is simulated by moving the cap into the past in the tenant's SQLite.
    await runInDurableObject(tenantObject(t.tenant), async (_obj: TenantDO, state) => {
      state.storage.sql.exec("UPDATE oauth_grants SET max_expires_at = ? WHERE subject = 'person-1'", Date.now() - 1);
    });
    const refused = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: client.client_id });
    expect(await oauthError(refused, 400, "invalid_grant")).toBe(SIGN_IN_CAPPED);
  });

  it("sso:nonce-once sso:subject — a nonce is taken once; a changed identity or a disabled server records nothing; the grant and its session name the person", async () => {
    const { t, updatedAt } = await withIdentity();
    const first = await signedInGrant(t, updatedAt, { nonce: "nonce-digest-1" });
    expect(first.issued.ok).toBe(true);
    const replay = await signedInGrant(t, updatedAt, { nonce: "nonce-digest-1" });
    expect(replay.issued).toEqual({ ok: false, reason: "nonce-replayed" });
    expect((await signedInGrant(t, updatedAt + 1)).issued).toEqual({ ok: false, reason: "identity-changed" });
    expect((await signedInGrant(t, updatedAt, { server: "not-enabled" })).issued).toEqual({ ok: false, reason: "unknown-server" });
    const { grants } = await adminOk("GET", `/tenants/${t.tenant}/grants`);
    expect(grants.map((g: { approver: unknown }) => g.approver)).toEqual([{ keyId: null, subject: "person-1", email: "p@example.com" }]);

    const tokens = await tokensOk(await first.redeem());
    const session = await openSession(mcpUrl(t.tenant, "notes"), tokens.access_token);
    const { entries } = await adminOk("GET", `/tenants/${t.tenant}/audit?limit=500`);
    expect(entries.find((e: { action: string; target: string }) => e.action === "session.created" && e.target === session.sessionId)?.actor).toBe("sso:person-1");
    expect(entries.filter((e: { action: string }) => e.action === "oauth.authorized").map((e: { actor: string }) => e.actor)).toEqual(["sso:person-1"]);
  });

  it("sso:revoke-subject — DELETE .../grants?subject= revokes every grant of the person and ends their sessions; key grants stay; a repeat re-drives; bad or unknown subjects are refused", async () => {
    // This tenant allows both sign-in and key approval, so it also holds a key's grant.
    const { t, updatedAt } = await withIdentity(true);
    const one = await signedInGrant(t, updatedAt);
    const two = await signedInGrant(t, updatedAt);
    const tokens = await tokensOk(await one.redeem());
    await tokensOk(await two.redeem());
    await tokensFor(t, "notes");
    const session = await openSession(mcpUrl(t.tenant, "notes"), tokens.access_token);

    const revoked = await adminOk("DELETE", `/tenants/${t.tenant}/grants?subject=person-1`);
    expect(revoked).toMatchObject({ subject: "person-1", alreadyRevoked: [], sessionsEnded: 1, sessionsFailed: [] });
    expect(revoked.revoked).toHaveLength(2);
    expect((await listSessions(t.tenant)).map((s) => s.id)).not.toContain(session.sessionId);
    const { grants } = await adminOk("GET", `/tenants/${t.tenant}/grants`);
    expect(grants.map((g: { approver: { keyId: string | null } }) => g.approver.keyId)).toEqual([t.keyId]);
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: one.client.client_id });
    expect(refresh.status).toBe(400);

    const repeat = await adminOk("DELETE", `/tenants/${t.tenant}/grants?subject=person-1`);
    expect(repeat).toMatchObject({ revoked: [], sessionsEnded: 0 });
    expect(repeat.alreadyRevoked).toHaveLength(2);
    expect((await admin("DELETE", `/tenants/${t.tenant}/grants?subject=nobody`)).status).toBe(404);
    expect((await admin("DELETE", `/tenants/${t.tenant}/grants`)).status).toBe(400);
    expect((await admin("DELETE", `/tenants/${t.tenant}/grants?subject=${"x".repeat(256)}`)).status).toBe(400);
  });

  it("sso:sign-in — the sealed sign-in state opens with the platform key only, untouched and unexpired", async () => {
    const ring = await loadKeyring(env.SMCP_SECRETS_KEY, undefined);
    const other = await loadKeyring(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))), undefined);
    if (!ring.ok || !other.ok) throw new Error("keys");
    const pending: PendingSignIn = {
      tenant: "t",
      server: "notes",
      resource: "https://smcp.example/mcp/t/notes",
      clientId: "c",
      clientName: null,
      redirectUri: REDIRECT_URI,
      codeChallenge: "x".repeat(43),
      clientState: "s",
      issuer: ISSUER,
      providerClientId: "smcp",
      identityUpdatedAt: 1,
      verifier: "v",
      nonce: "n",
      expiresAt: Date.now() + 60_000,
    };
    const sealed = await sealSignIn(ring.keyring, pending);
    expect(sealed).toMatch(/^s1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("verifier");
    expect(await openSignIn(ring.keyring, sealed)).toEqual({ ok: true, value: pending });
    expect(await openSignIn(other.keyring, sealed)).toEqual({ ok: false, reason: "malformed" });
    const flipped = sealed.slice(0, -2) + (sealed.endsWith("AA") ? "BA" : "AA");
    expect(await openSignIn(ring.keyring, flipped)).toEqual({ ok: false, reason: "malformed" });
    expect(await openSignIn(ring.keyring, sealed, pending.expiresAt)).toEqual({ ok: false, reason: "expired" });
    expect(await openSignIn(ring.keyring, null)).toEqual({ ok: false, reason: "malformed" });
  });
});
