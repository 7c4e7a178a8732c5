/**
 * A tenant's admin keys (table `admin_keys`, SPEC section 4): credentials that manage
 * this one tenant through the admin API (admin/tenant-scope.ts says what they may do).
 *
 * The Worker mints the secret and sends only its SHA-256 digest (admin/admin-key-format.ts),
 * so a secret never reaches storage; lookups are indexed equalities on the digest. The
 * table is bounded: at most `MAX_LIVE_ADMIN_KEYS` live keys, and revoked rows beyond the
 * newest `KEPT_REVOKED_ADMIN_KEYS` are pruned when a key is created (the audit log keeps
 * the history), so minting and revoking in a loop cannot grow it.
 */
import { randomToken } from "@smcp/runtime";

export const MAX_LIVE_ADMIN_KEYS = 20;
export const KEPT_REVOKED_ADMIN_KEYS = 50;

export interface AdminKeyInfo {
  id: string;
  label: string;
  createdAt: number;
  revokedAt: number | null;
}

/** Admin key ids are minted here: `ak_` and 12 base64url characters (an opaque route segment). */
const newAdminKeyId = () => `ak_${randomToken(9)}`;

export type AdminKeyCreated = { ok: true; info: AdminKeyInfo } | { ok: false; reason: "limit"; limit: number } | { ok: false; reason: "key-exists" };

export class AdminKeys {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  create(label: string, hash: string, now = Date.now()): AdminKeyCreated {
    const live = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM admin_keys WHERE revoked_at IS NULL").one().n;
    if (live >= MAX_LIVE_ADMIN_KEYS) return { ok: false, reason: "limit", limit: MAX_LIVE_ADMIN_KEYS };
    if (this.#sql.exec("SELECT 1 FROM admin_keys WHERE hash = ?", hash).toArray().length > 0) return { ok: false, reason: "key-exists" };
    const info: AdminKeyInfo = { id: newAdminKeyId(), label, createdAt: now, revokedAt: null };
    this.#sql.exec("INSERT INTO admin_keys (id, label, hash, created_at) VALUES (?, ?, ?, ?)", info.id, label, hash, now);
    this.#sql.exec(
      `DELETE FROM admin_keys WHERE revoked_at IS NOT NULL AND id NOT IN
         (SELECT id FROM admin_keys WHERE revoked_at IS NOT NULL ORDER BY revoked_at DESC, id LIMIT ?)`,
      KEPT_REVOKED_ADMIN_KEYS,
    );
    return { ok: true, info };
  }

  list(): AdminKeyInfo[] {
    return this.#sql
      .exec<{ id: string; label: string; created_at: number; revoked_at: number | null }>(
        "SELECT id, label, created_at, revoked_at FROM admin_keys ORDER BY created_at, id",
      )
      .toArray()
      .map((k) => ({ id: k.id, label: k.label, createdAt: k.created_at, revokedAt: k.revoked_at }));
  }

  /** Revokes a key; its digest is answered so the Worker that asked can drop it from its cache at once. */
  revoke(id: string, now = Date.now()): { ok: true; alreadyRevoked: boolean; hash: string } | { ok: false; reason: "unknown-admin-key" } {
    const row = this.#sql.exec<{ hash: string; revoked_at: number | null }>("SELECT hash, revoked_at FROM admin_keys WHERE id = ?", id).toArray()[0];
    if (!row) return { ok: false, reason: "unknown-admin-key" };
    if (row.revoked_at !== null) return { ok: true, alreadyRevoked: true, hash: row.hash };
    this.#sql.exec("UPDATE admin_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id);
    return { ok: true, alreadyRevoked: false, hash: row.hash };
  }

  /** The id of the live key with this digest, or null. */
  liveByHash(hash: string): string | null {
    return this.#sql.exec<{ id: string }>("SELECT id FROM admin_keys WHERE hash = ? AND revoked_at IS NULL", hash).toArray()[0]?.id ?? null;
  }

  isLive(id: string): boolean {
    return this.#sql.exec("SELECT 1 FROM admin_keys WHERE id = ? AND revoked_at IS NULL", id).toArray().length > 0;
  }
}
