/**
 * Authentication at the MCP endpoint: a tenant key, an OAuth access token, or none.
 *
 * The bearer's shape is checked first, in the Worker: a bearer that cannot be a
 * credential of the URL's tenant (a `smcp_sk_` key of the wrong length or alphabet, an
 * access token naming another tenant, anything of neither form) gets the normal 401
 * without a Durable Object call, once this isolate knows the tenant needs credentials
 * (so does a request without a bearer). These are not counted in the tenant's audit:
 * they never reach it, and cost it nothing. On a tenant with `auth: "none"` such a bearer is ignored, as any bearer is there; the
 * first one an isolate meets for a tenant whose mode it does not know yet asks the
 * tenant object once (without a digest) to learn it.
 *
 * Only well-formed bearers are hashed, and only the digest travels to the tenant
 * object and keys the caches: no raw secret is ever a cache key. Decisions are cached
 * in the isolate for a few seconds, so a busy session does not pay a round trip per
 * request; that lifetime bounds how long a revoked key keeps working (SPEC: within
 * 10 seconds). Failed checks feed the failed-auth limiter (failed-auth-limiter.ts),
 * which answers repeats of a failed key itself while a tenant is under a flood; the
 * tenant object aggregates the failures into its audit log (tenant/auth-failures.ts).
 */
import { BoundedCache, bearerToken, sha256Hex, stringBytes, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { accessCheckOf, answerAccess, isAccessTokenOf, unknownServer } from "../oauth/access-token";
import { invalidTokenError } from "../oauth/errors";
import { hasOAuthSecretPrefix, isWellFormedTenantKey } from "../oauth/tokens";
import type { BearerCheck, BearerDecision, TenantAuthMode } from "../tenant/types";
import { noteFailedAuth, refuseKnownBadKey } from "./failed-auth-limiter";
import type { Principal } from "./principal";

export const AUTH_CACHE_MS = 5_000;

/** A decision: a tag, a key id and a grant id (about 64 bytes) besides its key. */
const decisions = new BoundedCache<BearerDecision>({ maxBytes: 4 * 1024 * 1024, ttlMs: AUTH_CACHE_MS, sizeOf: () => 64 });
/** The auth mode a tenant answered with, or "unknown" for a tenant that does not exist. */
const modes = new BoundedCache<TenantAuthMode | "unknown">({ maxBytes: 512 * 1024, ttlMs: AUTH_CACHE_MS, sizeOf: (m) => stringBytes(m) });

type Bearer = { kind: "none" } | { kind: "key"; token: string } | { kind: "access"; token: string } | { kind: "malformed"; token: string };

function classify(token: string | null, tenant: string): Bearer {
  if (token === null) return { kind: "none" };
  if (isWellFormedTenantKey(token)) return { kind: "key", token };
  if (isAccessTokenOf(token, tenant)) return { kind: "access", token };
  return { kind: "malformed", token };
}

export function resourceMetadataUrl(requestUrl: string, tenant: string, server: string): string {
  return `${new URL(requestUrl).origin}/.well-known/oauth-protected-resource/mcp/${tenant}/${server}`;
}

/**
 * `fresh` skips the isolate's cached decision (it still stores the new one): a long-lived
 * stream re-checking its credential (listen-revocation.ts) learns of a revocation at once.
 */
export async function authenticate(request: Request, env: Env, tenant: string, server: string, { fresh = false } = {}): Promise<Principal> {
  const bearer = classify(bearerToken(request.headers.get("authorization")), tenant);
  // Parsed only for an answer that names it: a key that passes (nearly every request) needs no URL object.
  const metadataUrl = () => resourceMetadataUrl(request.url, tenant, server);
  const refused = () => refusal(bearer, metadataUrl(), tenant);
  const mode = modes.get(tenant);
  // Known to need credentials, or not to exist: what cannot be one of its credentials is refused without a round trip.
  if ((bearer.kind === "malformed" || bearer.kind === "none") && (mode === "key" || mode === "unknown")) throw refused();
  const check = await checkOf(bearer, request.url, tenant, server, mode);
  const decision = await decide(env, tenant, check, fresh);
  learnMode(tenant, check, decision);
  if (check.kind === "access") return answerAccess(decision, tenant, server, metadataUrl());
  if (decision.ok) return { tenant, incarnation: decision.incarnation, server, keyId: decision.keyId };
  switch (decision.reason) {
    case "unknown-server":
      throw unknownServer(tenant, server);
    default:
      // One answer for an unknown tenant and a bad key: the endpoint does not reveal which tenants exist.
      throw refused();
  }
}

async function checkOf(bearer: Bearer, requestUrl: string, tenant: string, server: string, mode: TenantAuthMode | "unknown" | undefined): Promise<BearerCheck> {
  switch (bearer.kind) {
    case "key":
      return { kind: "key", server, keyHash: await sha256Hex(bearer.token) };
    case "access":
      return accessCheckOf(requestUrl, tenant, server, bearer.token);
    case "none":
      return { kind: "key", server, keyHash: null };
    case "malformed":
      // Ignored on a tenant without keys; otherwise this asks the tenant object its mode, once.
      return { kind: "key", server, keyHash: null, malformed: mode !== "none" };
  }
}

const KNOWN_BAD_KEY: BearerDecision = { ok: false, reason: "invalid-key" };

/** The cached decision, the failed-auth limiter's, or the tenant object's. */
async function decide(env: Env, tenant: string, check: BearerCheck, fresh: boolean): Promise<BearerDecision> {
  const cacheKey = check.kind === "key" ? `key ${tenant}/${check.server} ${check.keyHash ?? (check.malformed ? "?" : "-")}` : `at ${check.resource} ${check.tokenHash}`;
  const now = Date.now();
  const hit = fresh ? undefined : decisions.get(cacheKey, now);
  if (hit) return hit;
  if (check.kind === "key" && check.keyHash && refuseKnownBadKey(env, tenant, check.keyHash, now)) return KNOWN_BAD_KEY;
  const decision =
    check.kind === "key"
      ? await tenantStub(env, tenant).authorize(check.server, check.keyHash, check.malformed ?? false)
      : await tenantStub(env, tenant).oauthCheckAccess(check);
  if (!decision.ok && decision.reason !== "unknown-server") {
    noteFailedAuth(env, tenant, check.kind === "key" && decision.reason === "invalid-key" ? check.keyHash : null, now);
  }
  const ttl = decision.ok && "expiresAt" in decision ? decision.expiresAt - now : AUTH_CACHE_MS;
  decisions.set(cacheKey, decision, now, ttl);
  return decision;
}

function learnMode(tenant: string, check: BearerCheck, decision: BearerDecision): void {
  if (decision.ok) {
    if ("auth" in decision) modes.set(tenant, decision.auth);
  } else if (decision.reason === "unknown-tenant") modes.set(tenant, "unknown");
  else if (decision.reason !== "unknown-server") modes.set(tenant, "key"); // only a tenant with keys refuses a credential
}

/** How a key looks and where one comes from: the next step after any key problem. */
const keyHelp = (tenant: string) =>
  `A tenant API key is smcp_sk_ and 43 characters (A-Z a-z 0-9 - _), shown once when it is created: POST /admin/v1/tenants/${tenant}/keys or npx pnpm@10 smcp keys create ${tenant}`;

/**
 * The 401 for what was sent. Only a bearer shaped as an access token gets the OAuth
 * `invalid_token` challenge (which sends an OAuth client to refresh); anything else is
 * reported as a key problem, since a person pasted it. An unknown tenant gets the same
 * text as an unknown key of a real one.
 */
function refusal(bearer: Bearer, metadataUrl: string, tenant: string) {
  switch (bearer.kind) {
    case "none":
      return wire.unauthorized(`Missing API key: send Authorization: Bearer <key>. ${keyHelp(tenant)}`, metadataUrl);
    case "key":
      return wire.unauthorized(`Invalid or revoked API key: tenant ${tenant} has no live key with this value. ${keyHelp(tenant)}`, metadataUrl);
    case "access":
    case "malformed":
      if (hasOAuthSecretPrefix(bearer.token)) return invalidTokenError(metadataUrl);
      return wire.unauthorized(`Malformed API key: this is not the shape of a tenant API key (a character missing, extra or wrong?). ${keyHelp(tenant)}`, metadataUrl);
  }
}
