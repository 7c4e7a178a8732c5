/**
 * `/admin/v1/tenants/{t}/grants`: the tenant's live OAuth grants (who approved which
 * client for which server, and when it was last used, to the hour), and an admin's
 * revocation of one. The rules are in oauth/grant-store.ts; the end of the grant's
 * sessions in TenantDO.oauthRevokeGrant.
 */
import { jsonResponse, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { cancelTasksOf } from "../tasks/revoke";
import { nextCursor, readPage } from "./paging";
import { unknownTenant } from "./tenants";

export async function listGrants(request: Request, env: Env, tenant: string): Promise<Response> {
  const { after, limit } = readPage(request);
  const result = await tenantStub(env, tenant).oauthListGrants(after, limit);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ grants: result.grants, next: nextCursor(result.grants, limit) });
}

/**
 * `DELETE .../grants/{g}`: the grant's tokens and codes stop working at once and its
 * open sessions and streams are ended; the answer says how many ended and which could
 * not be (`sessionsFailed`). As with keys, a repeat of the same DELETE is the re-drive
 * and answers 200 (`alreadyRevoked`); a grant that never existed or has expired is 404.
 */
export async function revokeGrant(env: Env, tenant: string, grantId: string): Promise<Response> {
  const result = await tenantStub(env, tenant).oauthRevokeGrant(grantId);
  if (!result.ok) {
    throw result.reason === "unknown-tenant" ? unknownTenant(tenant) : wire.notFound("unknown_grant", `No live grant ${grantId} in tenant ${tenant} (list them with GET /admin/v1/tenants/${tenant}/grants)`);
  }
  await cancelTasksOf(env, tenant, { grantId });
  const { alreadyRevoked, sessionsEnded, sessionsFailed } = result;
  return jsonResponse({ revoked: grantId, alreadyRevoked, sessionsEnded, sessionsFailed });
}
