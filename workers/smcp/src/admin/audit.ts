/** `/admin/v1/tenants/{t}/audit`: the tenant's hash-chained, append-only audit log, and its verification. */
import { jsonResponse } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { nextCursor, readPage } from "./paging";
import { unknownTenant } from "./tenants";

export async function getAudit(request: Request, env: Env, tenant: string): Promise<Response> {
  const { after, limit } = readPage(request);
  const result = await tenantStub(env, tenant).auditPage(after, limit);
  if (!result.ok) throw unknownTenant(tenant);
  // `detail` is stored as the exact JSON text the hash covers; decode it for readers.
  const entries = result.entries.map((e) => ({ ...e, detail: JSON.parse(e.detail) }));
  return jsonResponse({ entries, next: nextCursor(result.entries, limit) });
}

export async function verifyAudit(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).verifyAudit();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse(result.verdict);
}
