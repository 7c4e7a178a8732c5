/**
 * `/admin/v1/tenants/{t}/servers/{s}/secrets`: write-only secrets of a deployed server
 * (SPEC section 9). A value comes in as the raw request body, is sealed here with the
 * platform key (the tenant's object stores only ciphertext) and never goes out again:
 * answers carry names, times and key ids. Audit rows name the secret, never its value.
 * A change forgets this isolate's resolved deployment, so the next session here loads
 * a fresh isolate; other isolates follow within the deployment cache time.
 *
 * Without `SMCP_SECRETS_KEY` (or with one that is not 32 bytes of base64) every call
 * here answers 503 saying what to set. Secrets may be set before the first deploy.
 */
import { WireError, jsonResponse, readBoundedUtf8, sealSecret, secretBinding, wire, type SecretKeyring } from "@smcp/runtime";
import { builtInServers } from "@smcp/servers";
import { tenantStub, type Env } from "../env";
import { forgetResolvedServer } from "../sandbox/resolve-server";
import { rekeyTenant, secretsKeyring, serverSecrets, type ServerSecrets } from "../sandbox/secrets-env";
import { MAX_SECRET_BYTES, RESERVED_SECRET_NAMES, SECRET_NAME } from "../tenant/secrets";
import { rekeyIdentity } from "./identity";
import { requireTenant, unknownTenant } from "./tenants";

/** The keyring, or the 503 that says what the operator must set. */
export async function requireKeyring(env: Env): Promise<SecretKeyring> {
  const ring = await secretsKeyring(env);
  if (ring.ok) return ring.keyring;
  throw new WireError({
    status: 503,
    code: "secrets_key_missing",
    message:
      `Secrets are off: ${ring.detail}. The platform operator sets it to 32 random bytes in base64 ` +
      "(openssl rand -base64 32 | npx wrangler secret put SMCP_SECRETS_KEY; pnpm dev writes one to .dev.vars)",
  });
}

/**
 * The opened secrets of a server about to be loaded by an admin call (a deploy's or a
 * rollback's health check), or the error that says why they cannot be.
 */
export async function secretsForCheck(env: Env, tenant: string, incarnation: string, server: string): Promise<Extract<ServerSecrets, { ok: true }>> {
  const secrets = await serverSecrets(env, tenant, incarnation, server);
  if (secrets.ok) return secrets;
  if (secrets.reason === "unknown-tenant") throw unknownTenant(tenant);
  if (secrets.reason === "no-key") await requireKeyring(env);
  throw wire.conflict("secret_unreadable", `The server's secrets cannot be read: ${secrets.message}`);
}

function checkTarget(server: string, name: string | null): void {
  if (builtInServers.has(server)) {
    throw wire.conflict("server_is_built_in", `${server} is a built-in server; secrets are for servers you deploy`);
  }
  if (name === null) return;
  if (!SECRET_NAME.test(name)) {
    throw wire.badRequest("invalid_secret_name", `A secret name is an environment variable name: [A-Z_][A-Z0-9_]{0,63}, not ${JSON.stringify(name.slice(0, 80))}`);
  }
  if (RESERVED_SECRET_NAMES.has(name)) {
    throw wire.badRequest("reserved_secret_name", `${name} is the name of a capability the platform gives every deployed server (${[...RESERVED_SECRET_NAMES].join(", ")}); choose another name`);
  }
}

/** `PUT .../secrets/{NAME}`: the body is the value, UTF-8, 1 to 16384 bytes. 201 new, 200 replaced. */
export async function putSecret(request: Request, env: Env, tenant: string, server: string, name: string): Promise<Response> {
  const keyring = await requireKeyring(env);
  checkTarget(server, name);
  const read = await readBoundedUtf8(request, MAX_SECRET_BYTES);
  if (!read.ok) {
    throw read.reason === "too-large"
      ? wire.badRequest("secret_too_large", `A secret value may be at most ${MAX_SECRET_BYTES} bytes`)
      : wire.badRequest("invalid_secret_value", "A secret value must be UTF-8 text");
  }
  if (read.text === "") throw wire.badRequest("invalid_secret_value", "The secret value is empty: send the value as the request body");
  const sealed = await sealSecret(keyring, secretBinding(tenant, server, name), read.text);
  const result = await tenantStub(env, tenant).secretPut(server, name, sealed);
  if (!result.ok) throw unknownTenant(tenant);
  const stored = result.value;
  if (!stored.ok) {
    throw new WireError({
      status: 409,
      code: "too_many_secrets",
      message: `${stored.scope === "server" ? `Server ${server}` : `Tenant ${tenant}`} already has ${stored.limit} secrets, the most it may hold; delete one first`,
    });
  }
  forgetResolvedServer(tenant, server);
  return jsonResponse({ server, name, created: stored.created }, stored.created ? 201 : 200);
}

/** `GET .../secrets`: names, times and key ids; never a value. */
export async function listSecrets(env: Env, tenant: string, server: string): Promise<Response> {
  const keyring = await requireKeyring(env);
  checkTarget(server, null);
  const result = await tenantStub(env, tenant).secretList(server);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ server, keyId: keyring.current.id, secrets: result.value });
}

export async function deleteSecret(env: Env, tenant: string, server: string, name: string): Promise<Response> {
  await requireKeyring(env);
  checkTarget(server, name);
  const result = await tenantStub(env, tenant).secretDelete(server, name);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value.ok) throw wire.notFound("unknown_secret", `Server ${server} has no secret ${name}`);
  forgetResolvedServer(tenant, server);
  return jsonResponse({ server, name, deleted: true });
}

/**
 * `POST /tenants/{t}/secrets/rekey`: seals every value of the tenant that is not under
 * `SMCP_SECRETS_KEY` again under it (after a rotation, before the previous key is
 * dropped), the tenant's identity provider's client secret included. Values neither key
 * opens are listed, not touched.
 */
export async function rekeySecrets(env: Env, tenant: string): Promise<Response> {
  const keyring = await requireKeyring(env);
  await requireTenant(env, tenant);
  const result = await rekeyTenant(env, tenant, keyring);
  if (!result.ok) throw unknownTenant(tenant);
  const identity = await rekeyIdentity(env, tenant, keyring);
  return jsonResponse({
    tenant,
    keyId: keyring.current.id,
    rekeyed: result.rekeyed + (identity.rekeyed ? 1 : 0),
    unreadable: identity.unreadable ? [...result.unreadable, "identity/clientSecret"] : result.unreadable,
  });
}
