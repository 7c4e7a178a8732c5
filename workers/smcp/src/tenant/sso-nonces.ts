/**
 * The nonces of single sign-ons this tenant accepted (table `sso_nonces`, step 16 of the
 * tenant's migrations): an ID token, or a replayed callback, whose nonce is here is
 * refused. A nonce is written only after its ID token verified and its person passed the
 * allow rule, so only people the tenant admits can add rows, and it is kept only until the
 * sign-in state that carried it expires (after that the state itself is refused). Rows are
 * SHA-256 digests, swept on every write and capped at `MAX_SSO_NONCES`: at the cap a new
 * sign-in is refused (try again in minutes) rather than an old nonce forgotten early.
 */

export const MAX_SSO_NONCES = 10_000;

export type NonceUse = "fresh" | "replayed" | "full";

export function consumeNonce(sql: SqlStorage, hash: string, expiresAt: number, now = Date.now()): NonceUse {
  sql.exec("DELETE FROM sso_nonces WHERE expires_at <= ?", now);
  if (sql.exec("SELECT 1 FROM sso_nonces WHERE hash = ?", hash).toArray().length > 0) return "replayed";
  if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM sso_nonces").one().n >= MAX_SSO_NONCES) return "full";
  sql.exec("INSERT INTO sso_nonces (hash, expires_at) VALUES (?, ?)", hash, expiresAt);
  return "fresh";
}
