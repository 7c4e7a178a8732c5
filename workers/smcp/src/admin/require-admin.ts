/**
 * Guards `/admin/v1` and says who is calling: the platform operator
 * (`Authorization: Bearer $SMCP_ADMIN_TOKEN`, compared in constant time) or a tenant
 * admin key (`smcp_ak_{tenant}.…`, admin/admin-key-format.ts), which only ever
 * manages its own tenant (admin/tenant-scope.ts).
 *
 * An admin key is checked by its digest with the tenant object its prefix names;
 * anything that is neither the token nor a well-formed admin key is refused without a
 * Durable Object call. Decisions are cached per digest for `ADMIN_KEY_CACHE_MS`, so a
 * stranger repeating one bad key costs the tenant one call per interval; the tenant
 * object aggregates failures (tenant/auth-failures.ts, reason `invalid-admin-key`),
 * so random keys write a bounded number of rows. A cached "valid" is not what lets a
 * key act: every call it makes re-checks the key in the tenant object
 * (TenantDO.adminKeyCall), so a revoked key stops at once.
 */
import { BoundedCache, WireError, bearerToken, secretsEqual, sha256Hex } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { tenantOfAdminKey } from "./admin-key-format";

export type AdminCaller = { kind: "platform" } | { kind: "admin-key"; tenant: string; keyId: string; incarnation: string };

export const ADMIN_KEY_CACHE_MS = 5_000;

type Decision = { ok: true; keyId: string; incarnation: string } | { ok: false };
/** Keyed by digest (64 hex characters); a decision is two short ids. */
const decisions = new BoundedCache<Decision>({ maxBytes: 1024 * 1024, ttlMs: ADMIN_KEY_CACHE_MS, sizeOf: () => 96 });

const PLATFORM: AdminCaller = { kind: "platform" };

export async function requireAdmin(request: Request, env: Env): Promise<AdminCaller> {
  if (!env.SMCP_ADMIN_TOKEN) {
    throw new WireError({ status: 503, code: "admin_disabled", message: "SMCP_ADMIN_TOKEN is not set; the admin API is off" });
  }
  const token = bearerToken(request.headers.get("authorization"));
  if (token && (await secretsEqual(token, env.SMCP_ADMIN_TOKEN))) return PLATFORM;
  const tenant = token ? tenantOfAdminKey(token) : null;
  if (!token || !tenant) throw unauthorized("Admin API needs Authorization: Bearer <SMCP_ADMIN_TOKEN> or a tenant admin key");
  const hash = await sha256Hex(token);
  let decision = decisions.get(hash);
  if (!decision) {
    const answer = await tenantStub(env, tenant).adminKeyCheck(hash);
    decision = answer.ok ? { ok: true, keyId: answer.keyId, incarnation: answer.incarnation } : { ok: false };
    decisions.set(hash, decision);
  }
  if (!decision.ok) throw invalidAdminKey();
  return { kind: "admin-key", tenant, keyId: decision.keyId, incarnation: decision.incarnation };
}

/** A revocation in this isolate is seen by its next request at once (others re-check per call anyway). */
export function forgetAdminKey(hash: string): void {
  decisions.delete(hash);
}

export const invalidAdminKey = () => unauthorized("Invalid or revoked tenant admin key");

function unauthorized(message: string): WireError {
  return new WireError({ status: 401, code: "unauthorized", message, headers: { "WWW-Authenticate": 'Bearer realm="smcp-admin"' } });
}
