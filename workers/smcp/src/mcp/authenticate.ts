/**
 * Tenant-key authentication for the MCP endpoint.
 *
 * The key is hashed here and only its digest travels to the tenant's Durable Object,
 * which looks it up by digest. Decisions are cached in the isolate for a few seconds
 * so that a busy session does not pay a Durable Object round trip per request; the
 * cache lifetime is what bounds how long a revoked key keeps working (SPEC: within
 * 10 seconds).
 */
import { bearerToken, sha256Hex, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { authenticateAccessToken } from "../oauth/access-token";
import { isTenantKey } from "../oauth/tokens";
import type { AuthDecision } from "../tenant-do";
import type { Principal } from "./principal";

export const AUTH_CACHE_MS = 5_000;
const MAX_CACHE_ENTRIES = 10_000;

const cache = new Map<string, { until: number; decision: AuthDecision }>();
/** Digest of each key seen by this isolate, so a busy client does not pay a SHA-256 per request. */
const digests = new Map<string, string>();

async function digestOf(token: string): Promise<string> {
  let digest = digests.get(token);
  if (!digest) {
    digest = await sha256Hex(token);
    if (digests.size >= MAX_CACHE_ENTRIES) digests.clear();
    digests.set(token, digest);
  }
  return digest;
}

export function resourceMetadataUrl(requestUrl: string, tenant: string, server: string): string {
  return `${new URL(requestUrl).origin}/.well-known/oauth-protected-resource/mcp/${tenant}/${server}`;
}

export async function authenticate(request: Request, env: Env, tenant: string, server: string): Promise<Principal> {
  const token = bearerToken(request.headers.get("authorization"));
  if (token && !isTenantKey(token)) {
    // Not a tenant key: an OAuth access token (oauth/access-token.ts).
    const metadataUrl = resourceMetadataUrl(request.url, tenant, server);
    return authenticateAccessToken(env, { requestUrl: request.url, tenant, server, token, metadataUrl });
  }
  const keyHash = token ? await digestOf(token) : null;
  const decision = await decide(env, tenant, server, keyHash);
  if (decision.ok) return { tenant, incarnation: decision.incarnation, server, keyId: decision.keyId };
  switch (decision.reason) {
    case "unknown-tenant":
    case "invalid-key":
      // One answer for both, so the endpoint does not reveal which tenants exist.
      throw wire.unauthorized(
        token ? "Invalid or revoked API key" : "Missing API key: send Authorization: Bearer <tenant key>",
        resourceMetadataUrl(request.url, tenant, server),
      );
    case "unknown-server":
      throw wire.notFound("unknown_server", `Server ${server} is not enabled for this tenant`);
  }
}

async function decide(env: Env, tenant: string, server: string, keyHash: string | null): Promise<AuthDecision> {
  const cacheKey = `${tenant}/${server}/${keyHash ?? "-"}`;
  const now = Date.now();
  const hit = cache.get(cacheKey);
  if (hit && hit.until > now) return hit.decision;
  const decision = await tenantStub(env, tenant).authorize(server, keyHash);
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(cacheKey, { until: now + AUTH_CACHE_MS, decision });
  return decision;
}
