/**
 * The secrets the authorization server hands out, and PKCE.
 *
 * Codes, access tokens and refresh tokens are 256 random bits behind a prefix that
 * names their kind and their tenant: `smcp_at_{tenant}.{secret}`. The tenant tells the
 * token endpoint which tenant's Durable Object holds the grant without any global
 * index; it grants nothing by itself, since the Durable Object looks tokens up only by
 * SHA-256 digest, and the MCP endpoint looks them up only in the tenant of the URL.
 * Tenant API keys (`smcp_sk_`) are told apart by their prefix.
 *
 * Secrets are minted and hashed here, in the Worker: only digests travel to the
 * Durable Object, which can then check and store them in one synchronous step.
 */
import { base64url, isValidSegment, randomToken, sha256, sha256Hex } from "@smcp/runtime";

export const TENANT_KEY_PREFIX = "smcp_sk_";
/** A tenant key as minted by `TenantDO.createKey`: the prefix and 32 random bytes in base64url. */
export const TENANT_KEY_FORMAT = /^smcp_sk_[A-Za-z0-9_-]{43}$/;

const PREFIX = { code: "smcp_ac_", access: "smcp_at_", refresh: "smcp_rt_" } as const;
export type SecretKind = keyof typeof PREFIX;

/** Lifetimes. Codes are used within seconds of the redirect; refresh tokens rotate on every use. */
export const CODE_TTL_MS = 5 * 60_000;
export const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60_000;

export interface MintedSecret {
  value: string;
  hash: string;
}

export const isTenantKey = (token: string): boolean => token.startsWith(TENANT_KEY_PREFIX);

/** Whether `token` carries the prefix of one of our codes or tokens, well-formed or not: an OAuth client sent it. */
export const hasOAuthSecretPrefix = (token: string): boolean => Object.values(PREFIX).some((prefix) => token.startsWith(prefix));

/** A tenant key as minted (`smcp_sk_` and 256 random bits in base64url); nothing else is hashed or looked up. */
export const isWellFormedTenantKey = (token: string): boolean => TENANT_KEY_FORMAT.test(token);

export async function mintSecret(kind: SecretKind, tenant: string): Promise<MintedSecret> {
  const value = `${PREFIX[kind]}${tenant}.${randomToken(32)}`;
  return { value, hash: await sha256Hex(value) };
}

/** The tenant a code or token names, or null when it is not one of ours of that kind. */
export function tenantOf(kind: SecretKind, value: string | null | undefined): string | null {
  if (!value?.startsWith(PREFIX[kind])) return null;
  const rest = value.slice(PREFIX[kind].length);
  const dot = rest.indexOf(".");
  const tenant = rest.slice(0, dot);
  return dot > 0 && isValidSegment(tenant) && /^[A-Za-z0-9_-]{43}$/.test(rest.slice(dot + 1)) ? tenant : null;
}

// --- PKCE (RFC 7636), S256 only ---------------------------------------------------

/** An S256 challenge is the base64url SHA-256 of the verifier: always 43 characters. */
export const isS256Challenge = (challenge: string | null): challenge is string =>
  challenge !== null && /^[A-Za-z0-9_-]{43}$/.test(challenge);

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
export const isCodeVerifier = (verifier: string | null): verifier is string =>
  verifier !== null && /^[A-Za-z0-9._~-]{43,128}$/.test(verifier);

/** BASE64URL(SHA256(ASCII(verifier))), to compare with the stored challenge. */
export async function s256(verifier: string): Promise<string> {
  return base64url(await sha256(verifier));
}
