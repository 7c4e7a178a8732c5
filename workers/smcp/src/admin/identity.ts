/**
 * `/admin/v1/tenants/{t}/identity`: the tenant's OpenID Connect provider for single
 * sign-on (tenant/identity.ts has the rules). `PUT` checks the body, seals the client
 * secret here with the platform key and stores the rest in the tenant's object; `GET`
 * shows it without the secret; `DELETE` removes it. Changes are audited by the tenant
 * (`identity.set`, `identity.deleted`), without the secret.
 */
import { jsonResponse, openSecret, platformConfig, sealSecret, wire, type SecretKeyring } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { IdentityBody, checkIdentity, identitySecretBinding, identityView, type StoredIdentity } from "../tenant/identity";
import { ssoCallbackUrl } from "../sso/start";
import { readBody } from "./read-body";
import { requireKeyring } from "./secrets";
import { unknownTenant } from "./tenants";

/** `PUT .../identity`: 201 new, 200 replaced. */
export async function putIdentity(request: Request, env: Env, tenant: string): Promise<Response> {
  const keyring = await requireKeyring(env);
  const body = await readBody(request, IdentityBody);
  const checked = checkIdentity(body, { allowLoopback: platformConfig(env).SMCP_ALLOW_LOOPBACK_EGRESS });
  if (!checked.ok) throw wire.badRequest("invalid_identity", checked.reason);
  const identity: StoredIdentity = {
    issuer: checked.issuer,
    clientId: body.clientId,
    clientSecret: await sealSecret(keyring, identitySecretBinding(tenant), body.clientSecret),
    allow: body.allow,
    allowKeyApproval: body.allowKeyApproval ?? false,
    updatedAt: Date.now(),
  };
  const stored = await tenantStub(env, tenant).identityPut(identity);
  if (!stored.ok) throw unknownTenant(tenant);
  return jsonResponse(withCallback(request, identityView(identity)), stored.created ? 201 : 200);
}

export async function getIdentity(request: Request, env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).identityGet();
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value) throw wire.notFound("unknown_identity", `Tenant ${tenant} has no identity provider: its approval page asks for an API key`);
  return jsonResponse(withCallback(request, identityView(result.value)));
}

/** The redirect URI the tenant's admin registers with their provider: the same for every tenant of this origin. */
const withCallback = <T extends object>(request: Request, view: T) => ({ ...view, redirectUri: ssoCallbackUrl(new URL(request.url).origin) });

export async function deleteIdentity(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).identityDelete();
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.deleted) throw wire.notFound("unknown_identity", `Tenant ${tenant} has no identity provider`);
  return jsonResponse({ tenant, deleted: true });
}

/**
 * Seals the client secret again under the current key when it is not (part of
 * `POST /tenants/{t}/secrets/rekey`): whether it was, and whether it cannot be opened.
 */
export async function rekeyIdentity(env: Env, tenant: string, keyring: SecretKeyring): Promise<{ rekeyed: boolean; unreadable: boolean }> {
  const stub = tenantStub(env, tenant);
  const found = await stub.identityGet();
  const identity = found.ok ? found.value : null;
  if (!identity || identity.clientSecret.keyId === keyring.current.id) return { rekeyed: false, unreadable: false };
  const binding = identitySecretBinding(tenant);
  const opened = await openSecret(keyring, binding, identity.clientSecret);
  if (!opened.ok) return { rekeyed: false, unreadable: true };
  const done = await stub.identityReseal(identity.clientSecret, await sealSecret(keyring, binding, opened.value));
  return { rekeyed: done.ok && done.replaced, unreadable: false };
}
