/**
 * `/admin/v1/tenants/{t}/admin-keys`: tenant admin keys (SPEC section 4). Create (the
 * secret appears only in this answer; the tenant stores its digest), list (no secrets),
 * revoke. The platform token and the tenant's own admin keys may call these, so a
 * tenant rotates its keys itself (admin/tenant-scope.ts).
 */
import { jsonResponse, wire } from "@smcp/runtime";
import { z } from "zod";
import { tenantStub, type Env } from "../env";
import { mintAdminKey } from "./admin-key-format";
import { readBody } from "./read-body";
import { forgetAdminKey } from "./require-admin";
import { unknownTenant } from "./tenants";

const CreateAdminKey = z.object({ label: z.string().min(1).max(100).optional() }).strict();

export async function createAdminKey(request: Request, env: Env, tenant: string): Promise<Response> {
  const body = await readBody(request, CreateAdminKey);
  const minted = await mintAdminKey(tenant);
  const result = await tenantStub(env, tenant).adminKeyCreate(body.label ?? "default", minted.hash);
  if (!result.ok) {
    switch (result.reason) {
      case "unknown-tenant":
        throw unknownTenant(tenant);
      case "limit":
        throw wire.conflict(
          "admin_key_limit",
          `Tenant ${tenant} already has ${result.limit} live admin keys, the most it may have; revoke one first (DELETE /admin/v1/tenants/${tenant}/admin-keys/{id})`,
        );
      case "key-exists":
        throw wire.conflict("admin_key_exists", "That admin key already exists; ask for another");
    }
  }
  return jsonResponse({ ...result.info, key: minted.value }, 201);
}

export async function listAdminKeys(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).adminKeyList();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ adminKeys: result.keys });
}

/** Revoked at once: the tenant object re-checks the key at every call it makes. Revoking twice answers 200. */
export async function revokeAdminKey(env: Env, tenant: string, id: string): Promise<Response> {
  const result = await tenantStub(env, tenant).adminKeyRevoke(id);
  if (!result.ok) {
    throw result.reason === "unknown-tenant" ? unknownTenant(tenant) : wire.notFound("unknown_admin_key", `No admin key ${id} for tenant ${tenant}`);
  }
  forgetAdminKey(result.hash);
  return jsonResponse({ revoked: id, alreadyRevoked: result.alreadyRevoked });
}
