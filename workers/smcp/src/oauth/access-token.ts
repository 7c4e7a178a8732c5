/**
 * OAuth access tokens at the MCP endpoint (the resource-server side).
 *
 * A token is looked up, by digest, only in the Durable Object of the tenant in the
 * URL, and accepted only where its grant's audience is exactly this MCP URL: a token
 * for another tenant is unknown there, and one for another server or origin names
 * another audience. Both get the same 401 `invalid_token`. The principal of a token
 * is the tenant key that approved its grant, so a session opened with it stays bound
 * to that key (and ends when the key is revoked), like a session opened with the key.
 *
 * Decisions are cached in the isolate for the same few seconds as tenant-key
 * decisions, and never beyond the token's own expiry.
 */
import { sha256Hex, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import type { Principal } from "../mcp/principal";
import { invalidTokenError } from "./errors";
import type { AccessDecision } from "./grant-store";

/** The grant store's decision, with the incarnation of the tenant that made it. */
type TenantAccessDecision = (AccessDecision & { ok: false }) | (AccessDecision & { ok: true; incarnation: string });
import { mcpResourceUrl } from "./resource";

const CACHE_MS = 5_000;
const MAX_CACHE_ENTRIES = 10_000;
const cache = new Map<string, { until: number; decision: TenantAccessDecision | { ok: false; reason: "unknown-tenant" } }>();

export interface PresentedToken {
  requestUrl: string;
  tenant: string;
  server: string;
  token: string;
  /** The RFC 9728 metadata URL the 401 challenge names. */
  metadataUrl: string;
}

/** The principal of a valid access token for this MCP URL; throws the 401 or 404 otherwise. */
export async function authenticateAccessToken(env: Env, p: PresentedToken): Promise<Principal> {
  const resource = mcpResourceUrl(new URL(p.requestUrl).origin, p.tenant, p.server);
  const tokenHash = await sha256Hex(p.token);
  const cacheKey = `${resource} ${tokenHash}`;
  const now = Date.now();
  const hit = cache.get(cacheKey);
  let decision = hit && hit.until > now ? hit.decision : undefined;
  if (!decision) {
    decision = await tenantStub(env, p.tenant).oauthCheckAccess({ tokenHash, server: p.server, resource });
    if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
    cache.set(cacheKey, { until: Math.min(now + CACHE_MS, decision.ok ? decision.expiresAt : Infinity), decision });
  }
  if (decision.ok) return { tenant: p.tenant, incarnation: decision.incarnation, server: p.server, keyId: decision.keyId, grantId: decision.grantId };
  switch (decision.reason) {
    case "unknown-tenant":
    case "invalid-token":
      throw invalidTokenError(p.metadataUrl);
    case "unknown-server":
      throw wire.notFound("unknown_server", `Server ${p.server} is not enabled for this tenant`);
  }
}
