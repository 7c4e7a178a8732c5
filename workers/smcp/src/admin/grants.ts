/**
 * `/admin/v1/tenants/{t}/grants`: the tenant's live OAuth grants (who approved which
 * client for which server, and when it was last used, to the hour), and an admin's
 * revocation of one, or of every grant a person signed in for (`?subject=`). The rules
 * are in oauth/grant-store.ts; the end of the grants' sessions in TenantDO.oauthRevokeGrant
 * and TenantDO.oauthRevokeSubject.
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

/** A subject as providers issue them (OpenID Connect Core §2: at most 255 ASCII characters). */
const MAX_SUBJECT_LENGTH = 255;

/**
 * `DELETE .../grants?subject=S`: every grant approved by the person `S` signed in as
 * (single sign-on) is revoked as `DELETE .../grants/{g}` revokes one, their sessions and
 * streams ended. 200 with the grants revoked now and those already revoked (a repeat
 * re-drives their sessions); 404 when the subject has no grant that has not expired.
 */
export async function revokeSubjectGrants(request: Request, env: Env, tenant: string): Promise<Response> {
  const subject = new URL(request.url).searchParams.get("subject");
  if (!subject) throw wire.badRequest("invalid_request", "Name the grants to revoke: DELETE .../grants/{grant}, or .../grants?subject={subject} for every grant a person signed in for");
  if (subject.length > MAX_SUBJECT_LENGTH) throw wire.badRequest("invalid_request", `A subject is at most ${MAX_SUBJECT_LENGTH} characters`);
  const result = await tenantStub(env, tenant).oauthRevokeSubject(subject);
  if (!result.ok) throw unknownTenant(tenant);
  if (result.revoked.length === 0 && result.alreadyRevoked.length === 0) {
    throw wire.notFound("unknown_subject", `No grant of tenant ${tenant} was approved by subject ${JSON.stringify(subject)} (or they have expired)`);
  }
  for (const grantId of [...result.revoked, ...result.alreadyRevoked]) await cancelTasksOf(env, tenant, { grantId });
  const { revoked, alreadyRevoked, sessionsEnded, sessionsFailed } = result;
  return jsonResponse({ subject, revoked, alreadyRevoked, sessionsEnded, sessionsFailed });
}
