/**
 * Rate limits of the OAuth endpoints a stranger can reach (`/register`, `/authorize`,
 * `/token`, `/revoke`), per client address and per tenant.
 *
 * The address is `CF-Connecting-IP` only, which Cloudflare's edge sets and a client
 * cannot: `X-Forwarded-For` is whatever the client wrote. A request without the
 * header (local tools, tests) counts under one shared address. An IPv6 address counts
 * by its /64, the block one subscriber gets, so rotating within it does not help. The
 * address is only ever used as a SHA-256 digest. The tenant is the one the request
 * names (its `resource`, code or token), checked only after the address is admitted,
 * so one address over its own limit cannot spend a tenant's budget.
 *
 * Fetches of client metadata documents have buckets of their own, per address and per
 * target host (`admitMetadataFetch`).
 *
 * The buckets live in OAuthLimiterDO objects, in memory (limiter-do.ts). Over a limit:
 * 429 with `Retry-After` and the OAuth error `temporarily_unavailable`, the registered
 * code for "try again later" (RFC 6749 §4.1.2.1); the status and header carry the
 * retry for clients that only know the token endpoint's codes.
 */
import { platformConfig, sha256Hex } from "@smcp/runtime";
import type { Env } from "../env";
import { OAuthError } from "./errors";
import type { LimitBucket } from "./limiter-do";

export type OAuthEndpoint = Exclude<LimitBucket, "tenant" | "metadata">;

export const limiterStub = (env: Env, name: string) => env.OAUTH_LIMITER.get(env.OAUTH_LIMITER.idFromName(name));

/** The digest that names a request's client address (the shared `none` when there is none). */
export async function clientAddressDigest(request: Request): Promise<string> {
  const raw = request.headers.get("cf-connecting-ip");
  return sha256Hex(`smcp-oauth-address:${(raw !== null && addressKey(raw)) || "none"}`);
}

export const addressObjectName = (digest: string) => `address:${digest}`;

/**
 * Admits one request to `endpoint`: first the address's bucket for it, then the
 * tenant's (when the request names one). Throws the 429 otherwise.
 */
export async function admitOAuth(env: Env, request: Request, endpoint: OAuthEndpoint, tenant: string | null): Promise<void> {
  const config = platformConfig(env);
  const windowSeconds = config.SMCP_OAUTH_RATE_WINDOW_SECONDS;
  const perAddress = {
    register: config.SMCP_OAUTH_REGISTER_PER_ADDRESS,
    authorize: config.SMCP_OAUTH_AUTHORIZE_PER_ADDRESS,
    token: config.SMCP_OAUTH_TOKEN_PER_ADDRESS,
  }[endpoint];
  const address = await limiterStub(env, addressObjectName(await clientAddressDigest(request))).take(endpoint, perAddress, windowSeconds * 1000);
  if (!address.ok) throw tooMany(`Too many ${endpoint} requests from this address (at most ${perAddress} per ${windowSeconds} s)`, address.retryAfterMs);
  if (tenant === null) return;
  const perTenant = config.SMCP_OAUTH_REQUESTS_PER_TENANT;
  const named = await limiterStub(env, `tenant:${tenant}`).take("tenant", perTenant, windowSeconds * 1000);
  if (!named.ok) throw tooMany(`Too many OAuth requests for this tenant (at most ${perTenant} per ${windowSeconds} s)`, named.retryAfterMs);
}

/**
 * Admits one fetch of a Client ID Metadata Document (client-metadata.ts), which a
 * stranger triggers by naming a URL: the address's `metadata` bucket, then the target
 * host's, so many addresses together cannot aim SMCP at one site either.
 */
export async function admitMetadataFetch(env: Env, request: Request, host: string): Promise<void> {
  const config = platformConfig(env);
  const windowMs = config.SMCP_OAUTH_RATE_WINDOW_SECONDS * 1000;
  const perAddress = config.SMCP_OAUTH_METADATA_FETCHES_PER_ADDRESS;
  const address = await limiterStub(env, addressObjectName(await clientAddressDigest(request))).take("metadata", perAddress, windowMs);
  if (!address.ok) throw tooMany(`Too many client metadata document fetches from this address (at most ${perAddress} per ${config.SMCP_OAUTH_RATE_WINDOW_SECONDS} s)`, address.retryAfterMs);
  const perHost = config.SMCP_OAUTH_METADATA_FETCHES_PER_HOST;
  const target = await limiterStub(env, `metadata-host:${await sha256Hex(host)}`).take("metadata", perHost, windowMs);
  if (!target.ok) throw tooMany(`Too many client metadata document fetches from ${host} (at most ${perHost} per ${config.SMCP_OAUTH_RATE_WINDOW_SECONDS} s)`, target.retryAfterMs);
}

function tooMany(description: string, retryAfterMs: number): OAuthError {
  return new OAuthError("temporarily_unavailable", description, 429, { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;

/** What an address counts as: an IPv4 address itself, an IPv6 address its /64; null when it is neither. */
export function addressKey(raw: string): string | null {
  const value = raw.trim().toLowerCase();
  if (IPV4.test(value)) return value;
  if (value.length > 45 || !/^[0-9a-f:.]+$/.test(value) || !value.includes(":")) return null;
  const mapped = /^::ffff:((?:\d{1,3}\.){3}\d{1,3})$/.exec(value);
  if (mapped) return mapped[1]!;
  const halves = value.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 ? (halves[1] ? halves[1].split(":") : []) : null;
  if (tail !== null && head.length + tail.length > 7) return null;
  const groups = tail === null ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}
