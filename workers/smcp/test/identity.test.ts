/**
 * A tenant's identity provider for single sign-on (tenant/identity.ts, admin/identity.ts):
 * the admin API's checks, the sealed client secret, the audit rows.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeBase64, loadKeyring, openSecret, secretKeyId } from "@smcp/runtime";
import worker from "../src/index";
import type { TenantDO } from "../src/tenant-do";
import { identitySecretBinding, type StoredIdentity } from "../src/tenant/identity";
import { ADMIN_TOKEN, ORIGIN, admin, adminOk, provisionTenant } from "./helpers";

const SECRET = "a-client-secret-that-must-never-come-back";
const provider = (over: Record<string, unknown> = {}) => ({
  issuer: "https://login.example.com/tenant-a",
  clientId: "smcp-client",
  clientSecret: SECRET,
  allow: { emailDomains: ["Example.com"] },
  ...over,
});

async function expectRefused(tenant: string, body: unknown, code: string, pattern: RegExp): Promise<void> {
  const res = await admin("PUT", `/tenants/${tenant}/identity`, body);
  const text = await res.text();
  expect(res.status, text).toBe(400);
  const parsed = JSON.parse(text);
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.message).toMatch(pattern);
}

describe("tenant identity provider", () => {
  it("sso:config — a provider is stored with its secret sealed, shown without it, replaced, deleted, and each change audited", async () => {
    const t = await provisionTenant();
    expect((await admin("GET", `/tenants/${t.tenant}/identity`)).status).toBe(404);

    const created = await adminOk("PUT", `/tenants/${t.tenant}/identity`, provider(), 201);
    expect(created).toMatchObject({ issuer: "https://login.example.com/tenant-a", clientId: "smcp-client", allow: { emailDomains: ["example.com"] }, allowKeyApproval: false });
    expect(JSON.stringify(created)).not.toContain(SECRET);
    const shown = await admin("GET", `/tenants/${t.tenant}/identity`);
    const shownText = await shown.text();
    expect(shown.status).toBe(200);
    expect(shownText).not.toContain(SECRET);
    expect(JSON.parse(shownText).clientSecretKeyId).toBe(created.clientSecretKeyId);

    // At rest: ciphertext that opens only under this tenant's binding.
    const stored = await runInDurableObject(env.TENANT.get(env.TENANT.idFromName(`tenant:${t.tenant}`)) as DurableObjectStub<TenantDO>, (_o, state) =>
      state.storage.kv.get<StoredIdentity>("identity"),
    );
    expect(JSON.stringify(stored)).not.toContain(SECRET);
    const ring = await loadKeyring(env.SMCP_SECRETS_KEY, env.SMCP_SECRETS_KEY_PREVIOUS);
    if (!ring.ok) throw new Error("the test pool has a secrets key");
    expect(await openSecret(ring.keyring, identitySecretBinding(t.tenant), stored!.clientSecret)).toMatchObject({ ok: true, value: SECRET });
    expect((await openSecret(ring.keyring, identitySecretBinding("other"), stored!.clientSecret)).ok).toBe(false);

    const replaced = await adminOk("PUT", `/tenants/${t.tenant}/identity`, provider({ allow: { subjects: ["u-1"] }, allowKeyApproval: true }), 200);
    expect(replaced).toMatchObject({ allow: { subjects: ["u-1"] }, allowKeyApproval: true });
    expect(await adminOk("DELETE", `/tenants/${t.tenant}/identity`)).toEqual({ tenant: t.tenant, deleted: true });
    expect((await admin("DELETE", `/tenants/${t.tenant}/identity`)).status).toBe(404);
    expect((await admin("GET", `/tenants/${t.tenant}/identity`)).status).toBe(404);

    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    const rows = (audit.entries as { action: string; detail: Record<string, unknown> }[]).filter((e) => e.action.startsWith("identity."));
    expect(rows.map((r) => r.action)).toEqual(["identity.set", "identity.set", "identity.deleted"]);
    expect(rows[0]!.detail).toMatchObject({ issuer: "https://login.example.com/tenant-a", emailDomains: 1, subjects: 0, allowKeyApproval: false });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it("sso:config — a provider without an allow rule, a bad issuer, a non-https or private one, or an unbounded body is refused with 400", async () => {
    const t = await provisionTenant();
    await expectRefused(t.tenant, provider({ allow: {} }), "invalid_identity", /allow must name who may sign in/);
    await expectRefused(t.tenant, provider({ allow: { emailDomains: [], subjects: [] } }), "invalid_identity", /allow must name who may sign in/);
    await expectRefused(t.tenant, provider({ allow: { groups: { claim: "groups", values: [] } } }), "invalid_body", /allow\.groups\.values/);
    await expectRefused(t.tenant, provider({ allow: { emailDomains: ["not a domain"] } }), "invalid_body", /email domain/);
    await expectRefused(t.tenant, provider({ allow: { everyone: true } }), "invalid_body", /allow/);
    await expectRefused(t.tenant, provider({ issuer: "not a url" }), "invalid_identity", /https URL/);
    await expectRefused(t.tenant, provider({ issuer: "http://login.example.com" }), "invalid_identity", /only https/);
    await expectRefused(t.tenant, provider({ issuer: "https://10.0.0.1" }), "invalid_identity", /IP address/);
    await expectRefused(t.tenant, provider({ issuer: "https://idp.internal" }), "invalid_identity", /not a public domain/);
    await expectRefused(t.tenant, provider({ issuer: "https://localhost:8443" }), "invalid_identity", /SMCP_ALLOW_LOOPBACK_EGRESS/);
    await expectRefused(t.tenant, provider({ issuer: "https://login.example.com/?x=1" }), "invalid_identity", /no query/);
    await expectRefused(t.tenant, provider({ clientSecret: "" }), "invalid_body", /clientSecret/);
    await expectRefused(t.tenant, provider({ clientSecret: "x".repeat(2049) }), "invalid_body", /clientSecret/);
    await expectRefused(t.tenant, provider({ allow: { subjects: Array.from({ length: 101 }, (_, i) => `s${i}`) } }), "invalid_body", /allow\.subjects/);
    await expectRefused(t.tenant, { ...provider(), extra: 1 }, "invalid_body", /extra|Unrecognized/);
    expect((await admin("GET", `/tenants/${t.tenant}/identity`)).status).toBe(404);
    expect((await admin("PUT", `/tenants/no-such-tenant-x/identity`, provider())).status).toBe(404);
  });

  it("sso:config — a loopback issuer is accepted only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS", async () => {
    const t = await provisionTenant();
    const req = () =>
      new Request(`${ORIGIN}/admin/v1/tenants/${t.tenant}/identity`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify(provider({ issuer: "https://localhost:8443/idp" })),
      });
    expect((await worker.fetch(req(), { ...env, SMCP_ALLOW_LOOPBACK_EGRESS: "true" })).status).toBe(201);
  });

  it("sso:config — the secrets re-key seals the client secret again under the new key, and then only the new key opens it", async () => {
    const t = await provisionTenant();
    const created = await adminOk("PUT", `/tenants/${t.tenant}/identity`, provider(), 201);
    const current = env.SMCP_SECRETS_KEY!;
    const previous = env.SMCP_SECRETS_KEY_PREVIOUS!;
    expect(created.clientSecretKeyId).toBe(await secretKeyId(decodeBase64(current)!));
    // Rotation: the old current key becomes the previous one.
    const rotated = { ...env, SMCP_SECRETS_KEY: previous, SMCP_SECRETS_KEY_PREVIOUS: current };
    const rekey = await worker.fetch(
      new Request(`${ORIGIN}/admin/v1/tenants/${t.tenant}/secrets/rekey`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
      rotated,
    );
    const answer = (await rekey.json()) as { rekeyed: number; unreadable: string[] };
    expect(rekey.status).toBe(200);
    expect(answer).toMatchObject({ rekeyed: 1, unreadable: [] });
    const stored = await runInDurableObject(env.TENANT.get(env.TENANT.idFromName(`tenant:${t.tenant}`)) as DurableObjectStub<TenantDO>, (_o, state) =>
      state.storage.kv.get<StoredIdentity>("identity"),
    );
    expect(stored!.clientSecret.keyId).toBe(await secretKeyId(decodeBase64(previous)!));
    const onlyNew = await loadKeyring(previous, undefined);
    if (!onlyNew.ok) throw new Error("key loads");
    expect(await openSecret(onlyNew.keyring, identitySecretBinding(t.tenant), stored!.clientSecret)).toMatchObject({ ok: true, value: SECRET });
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    expect((audit.entries as { action: string }[]).map((e) => e.action)).toContain("identity.rekeyed");
  });
});
