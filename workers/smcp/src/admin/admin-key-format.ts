/**
 * The tenant admin key's format: `smcp_ak_{tenant}.` and 256 random bits in base64url
 * (43 characters). The tenant in the prefix tells the Worker which tenant object to
 * ask, without a global index (as the OAuth tokens of oauth/tokens.ts do); it grants
 * nothing by itself, since that object looks keys up only by SHA-256 digest. Anything
 * else that starts with the prefix is refused without a Durable Object call.
 */
import { isValidSegment, randomToken, sha256Hex } from "@smcp/runtime";

export const ADMIN_KEY_PREFIX = "smcp_ak_";
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export async function mintAdminKey(tenant: string): Promise<{ value: string; hash: string }> {
  const value = `${ADMIN_KEY_PREFIX}${tenant}.${randomToken(32)}`;
  return { value, hash: await sha256Hex(value) };
}

/** The tenant a well-formed admin key names, or null when `token` is not one. */
export function tenantOfAdminKey(token: string): string | null {
  if (!token.startsWith(ADMIN_KEY_PREFIX)) return null;
  const rest = token.slice(ADMIN_KEY_PREFIX.length);
  const dot = rest.indexOf(".");
  const tenant = rest.slice(0, dot);
  return dot > 0 && isValidSegment(tenant) && SECRET.test(rest.slice(dot + 1)) ? tenant : null;
}
