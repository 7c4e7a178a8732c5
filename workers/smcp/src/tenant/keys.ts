/**
 * The tenant's API keys (table `keys`): minted, listed, revoked, and looked up.
 *
 * A key is shown once, when it is minted, and stored only as its SHA-256 digest, so
 * every lookup is an indexed equality on a digest, never a comparison with the
 * secret itself. A revoked key keeps its row (`revoked_at`), so listing shows it and
 * revoking it again is a no-op that re-drives the end of its sessions, which the
 * host does (`endSessionsOfKey`): revocation is committed before any session is
 * asked to end, whatever happens to them.
 */
import { randomToken, sha256Hex } from "@smcp/runtime";
import type { SessionsEnded } from "./session-objects";
import type { KeyInfo } from "./types";

/** What the keys need from the tenant object that hosts them. */
export interface KeysHost {
  sql: SqlStorage;
  audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void>;
  /** Ends the indexed sessions opened with key `id` (tenant/session-objects.ts). */
  endSessionsOfKey(id: string): Promise<SessionsEnded>;
}

export class TenantKeys {
  readonly #host: KeysHost;

  constructor(host: KeysHost) {
    this.#host = host;
  }

  get #sql() {
    return this.#host.sql;
  }

  /** Mints a key, or stores `restore` (a key in the minted format the admin already holds). */
  async create(label: string, restore?: string): Promise<{ ok: true; key: string; info: KeyInfo } | { ok: false; reason: "key-exists" }> {
    const info: KeyInfo = { id: `key_${randomToken(9)}`, label, createdAt: Date.now(), revokedAt: null };
    const key = restore ?? `smcp_sk_${randomToken(32)}`;
    const hash = await sha256Hex(key);
    if (this.#sql.exec("SELECT 1 FROM keys WHERE hash = ?", hash).toArray().length > 0) return { ok: false, reason: "key-exists" };
    this.#sql.exec("INSERT INTO keys (id, label, hash, created_at) VALUES (?, ?, ?, ?)", info.id, label, hash, info.createdAt);
    await this.#host.audit("admin", "key.created", info.id, { label, restored: restore !== undefined });
    return { ok: true, key, info };
  }

  list(): KeyInfo[] {
    return this.#sql
      .exec<{ id: string; label: string; created_at: number; revoked_at: number | null }>(
        "SELECT id, label, created_at, revoked_at FROM keys ORDER BY created_at, id",
      )
      .toArray()
      .map((k) => ({ id: k.id, label: k.label, createdAt: k.created_at, revokedAt: k.revoked_at }));
  }

  /**
   * Revokes a key, then ends its open sessions, streams included; new requests fail
   * auth at once. The key is revoked whatever happens to the sessions, and the answer
   * says which of them could not be ended. Revoking a revoked key again is the re-drive:
   * it ends whatever sessions of the key are still indexed.
   */
  async revoke(id: string): Promise<({ ok: true; alreadyRevoked: boolean } & SessionsEnded) | { ok: false; reason: "unknown-key" }> {
    const key = this.#sql.exec<{ revoked_at: number | null }>("SELECT revoked_at FROM keys WHERE id = ?", id).toArray()[0];
    if (!key) return { ok: false, reason: "unknown-key" };
    const alreadyRevoked = key.revoked_at !== null;
    if (!alreadyRevoked) {
      this.#sql.exec("UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id);
      await this.#host.audit("admin", "key.revoked", id, {});
    }
    const ended = await this.#host.endSessionsOfKey(id);
    if (ended.sessionsFailed.length > 0) {
      await this.#host.audit("platform", "key.revoke-incomplete", id, { failed: ended.sessionsFailed.length, sessions: ended.sessionsFailed.slice(0, 20) });
    }
    return { ok: true, alreadyRevoked, ...ended };
  }

  /** The id of the live key whose SHA-256 is `keyHash`, or null when there is none (unknown or revoked). */
  liveIdOf(keyHash: string): string | null {
    return this.#sql.exec<{ id: string }>("SELECT id FROM keys WHERE hash = ? AND revoked_at IS NULL", keyHash).toArray()[0]?.id ?? null;
  }

  /** Whether key `id` exists and is not revoked. */
  isLive(id: string): boolean {
    return this.#sql.exec("SELECT 1 FROM keys WHERE id = ? AND revoked_at IS NULL", id).toArray().length > 0;
  }
}
