/** `/admin/v1/tenants/{t}/keys`: create (the secret appears only in this response), list, revoke. */
import { jsonResponse, wire } from "@smcp/runtime";
import { z } from "zod";
import { tenantStub, type Env } from "../env";
import { cancelTasksOf } from "../tasks/revoke";
import { TENANT_KEY_FORMAT } from "../oauth/tokens";
import { readBody } from "./read-body";
import { unknownTenant } from "./tenants";

const CreateKey = z
  .object({
    label: z.string().min(1).max(100).optional(),
    // Restores a key the admin already holds (pnpm dev keeps its demo key across a wipe of
    // local state). Only the platform's own format is accepted: 256 bits, never a password.
    key: z.string().regex(TENANT_KEY_FORMAT, "key must be a tenant key minted by SMCP (smcp_sk_ and 43 base64url characters)").optional(),
  })
  .strict();

export async function createKey(request: Request, env: Env, tenant: string): Promise<Response> {
  const body = await readBody(request, CreateKey);
  const result = await tenantStub(env, tenant).createKey(body.label ?? "default", body.key);
  if (!result.ok && result.reason === "key-exists") throw wire.conflict("key_exists", "That key is already a key of this tenant");
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ ...result.info, key: result.key }, 201);
}

export async function listKeys(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).listKeys();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ keys: result.keys });
}

/**
 * `DELETE .../keys/{k}`: the key is revoked at once; its open sessions are ended, and
 * the answer says how many ended and which could not be (`sessionsFailed`). Those stay
 * listed and a repeat of the same DELETE ends them: revoking a revoked key is how a
 * partial revocation is re-driven, so it answers 200, never 404.
 */
export async function revokeKey(env: Env, tenant: string, keyId: string): Promise<Response> {
  const result = await tenantStub(env, tenant).revokeKey(keyId);
  if (!result.ok) {
    throw result.reason === "unknown-tenant" ? unknownTenant(tenant) : wire.notFound("unknown_key", `No key ${keyId}`);
  }
  await cancelTasksOf(env, tenant, { keyId });
  const { alreadyRevoked, sessionsEnded, sessionsFailed } = result;
  return jsonResponse({ revoked: keyId, alreadyRevoked, sessionsEnded, sessionsFailed });
}
