/**
 * OAuth access tokens at the MCP endpoint (the resource-server side).
 *
 * A token is looked up, by digest, only in the Durable Object of the tenant in the
 * URL, and accepted only where its grant's audience is exactly this MCP URL: a token
 * for another tenant never leaves the Worker (its prefix names that tenant, see
 * `isAccessTokenOf`), and one for another server or origin names another audience.
 * All get the same 401 `invalid_token`. The principal of a token is the tenant key that
 * approved its grant, so a session opened with it stays bound to that key (and ends
 * when the key is revoked), like a session opened with the key; a grant a person approved
 * by single sign-on has no key, and its sessions are bound to the grant alone.
 *
 * The check itself runs in mcp/authenticate.ts with the tenant-key checks: the same
 * decision cache (keyed by the token's digest, never beyond the token's own expiry),
 * the same failed-auth limiter.
 */
import { sha256Hex, wire } from "@smcp/runtime";
import type { Principal } from "../mcp/principal";
import type { BearerCheck, BearerDecision } from "../tenant/types";
import { invalidTokenError } from "./errors";
import { mcpResourceUrl } from "./resource";
import { tenantOf } from "./tokens";

/** Whether `token` is shaped like one of our access tokens, issued by `tenant`. */
export const isAccessTokenOf = (token: string, tenant: string): boolean => tenantOf("access", token) === tenant;

/** What the tenant object checks for a well-formed access token presented at this MCP URL. */
export async function accessCheckOf(requestUrl: string, tenant: string, server: string, token: string): Promise<BearerCheck> {
  const resource = mcpResourceUrl(new URL(requestUrl).origin, tenant, server);
  return { kind: "access", tokenHash: await sha256Hex(token), server, resource };
}

/** The principal of an accepted token; throws the 401 or 404 otherwise. */
export function answerAccess(decision: BearerDecision, tenant: string, server: string, metadataUrl: string): Principal {
  if (decision.ok) return { tenant, incarnation: decision.incarnation, server, keyId: decision.keyId, grantId: "grantId" in decision ? decision.grantId : null };
  if (decision.reason === "unknown-server") throw wire.notFound("unknown_server", `Server ${server} is not enabled for this tenant`);
  throw invalidTokenError(metadataUrl);
}
