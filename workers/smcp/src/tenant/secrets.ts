/**
 * A tenant's write-only secrets for its deployed servers (SPEC section 9), in the
 * tenant's SQLite: sealed values only. The platform key never reaches this object:
 * values are sealed and opened in the Worker (admin/secrets.ts, sandbox/secrets-env.ts),
 * so what is stored here, and what crosses RPC to and from here, is ciphertext and
 * names. Nothing here returns a value, sealed or not, except `sealed()`, which the
 * platform calls to load a sandbox.
 *
 * Each server has a revision that every set and delete raises (and nothing else, not a
 * re-key): it is part of the sandbox isolate's name, so a changed secret reaches new
 * sessions in a fresh isolate and never through an old one. The revision row stays when
 * the last secret goes, so a revision number is never reused for other values.
 */
import type { SealedSecret } from "@smcp/runtime";

/** Step 10 of TENANT_MIGRATIONS as it shipped: never edit it; append a step there instead. */
export const SECRET_SCHEMA = `
CREATE TABLE server_secrets (
  server TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  iv TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (server, name)
);
CREATE TABLE server_secret_revisions (
  server TEXT PRIMARY KEY,
  revision INTEGER NOT NULL
);
`;

/** Environment variable names, as SPEC section 9 says. */
export const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;
/** Names the sandbox's env already uses for the platform's capabilities (sandbox/client.ts). */
export const RESERVED_SECRET_NAMES: ReadonlySet<string> = new Set(["STORE", "TENANT", "SERVER"]);
/** Largest value, in UTF-8 bytes. */
export const MAX_SECRET_BYTES = 16 * 1024;
/** Secrets per server, and per tenant over all its servers (so names cannot multiply storage without end). */
export const MAX_SECRETS_PER_SERVER = 32;
export const MAX_SECRETS_PER_TENANT = 512;

export interface SecretInfo {
  name: string;
  /** The id of the key the value is sealed under (a digest of the key, not the key). */
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

export interface SealedEntry {
  server: string;
  name: string;
  sealed: SealedSecret;
}

/** What a sandbox's name and a cache's size estimate need: no values. */
export interface SecretsSummary {
  revision: number;
  count: number;
  bytes: number;
}

type Row = { name: string; key_id: string; iv: string; ciphertext: string; created_at: number; updated_at: number };

export class SecretStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Stores (or replaces) a sealed value; a new name beyond the cap is refused. */
  put(
    server: string,
    name: string,
    sealed: SealedSecret,
  ): { ok: true; created: boolean; revision: number } | { ok: false; reason: "too-many"; scope: "server" | "tenant"; limit: number } {
    const existing = this.#sql.exec<{ created_at: number }>("SELECT created_at FROM server_secrets WHERE server = ? AND name = ?", server, name).toArray()[0];
    if (!existing) {
      if (this.#count(server) >= MAX_SECRETS_PER_SERVER) return { ok: false, reason: "too-many", scope: "server", limit: MAX_SECRETS_PER_SERVER };
      if (this.#count(null) >= MAX_SECRETS_PER_TENANT) return { ok: false, reason: "too-many", scope: "tenant", limit: MAX_SECRETS_PER_TENANT };
    }
    const now = Date.now();
    this.#sql.exec(
      `INSERT INTO server_secrets (server, name, key_id, iv, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (server, name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      server,
      name,
      sealed.keyId,
      sealed.iv,
      sealed.ciphertext,
      existing?.created_at ?? now,
      now,
    );
    return { ok: true, created: !existing, revision: this.#bump(server) };
  }

  delete(server: string, name: string): { ok: true; revision: number } | { ok: false; reason: "unknown-secret" } {
    const written = this.#sql.exec("DELETE FROM server_secrets WHERE server = ? AND name = ?", server, name).rowsWritten;
    if (written === 0) return { ok: false, reason: "unknown-secret" };
    return { ok: true, revision: this.#bump(server) };
  }

  /** Every secret of the server goes (purging a server); the revision is raised, never reset, so no isolate of the old values is reused. */
  purge(server: string): number {
    const removed = this.#sql.exec("DELETE FROM server_secrets WHERE server = ?", server).rowsWritten;
    if (removed > 0) this.#bump(server);
    return removed;
  }

  list(server: string): SecretInfo[] {
    return this.#rows(server).map((r) => ({ name: r.name, keyId: r.key_id, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  summary(server: string): SecretsSummary {
    const row = this.#sql
      .exec<{ count: number; bytes: number | null }>("SELECT count(*) AS count, sum(length(ciphertext)) AS bytes FROM server_secrets WHERE server = ?", server)
      .one();
    return { revision: this.#revision(server), count: row.count, bytes: row.bytes ?? 0 };
  }

  /** The sealed values of a server, with the revision they are: what a sandbox is loaded with. */
  sealed(server: string): { revision: number; secrets: SealedEntry[] } {
    return {
      revision: this.#revision(server),
      secrets: this.#rows(server).map((r) => ({ server, name: r.name, sealed: { keyId: r.key_id, iv: r.iv, ciphertext: r.ciphertext } })),
    };
  }

  /** Up to `limit` values not sealed under `currentKeyId`, after (server, name), in order: a re-key's page. */
  stale(currentKeyId: string, after: { server: string; name: string } | null, limit: number): SealedEntry[] {
    return this.#sql
      .exec<Row & { server: string }>(
        `SELECT server, name, key_id, iv, ciphertext, created_at, updated_at FROM server_secrets
         WHERE key_id <> ? AND (server > ? OR (server = ? AND name > ?)) ORDER BY server, name LIMIT ?`,
        currentKeyId,
        after?.server ?? "",
        after?.server ?? "",
        after?.name ?? "",
        limit,
      )
      .toArray()
      .map((r) => ({ server: r.server, name: r.name, sealed: { keyId: r.key_id, iv: r.iv, ciphertext: r.ciphertext } }));
  }

  /**
   * Replaces values sealed again under another key, each only if the row still holds
   * the value it was opened from (same IV): a set that happened meanwhile wins. The
   * revision does not move: the values are the same.
   */
  reseal(entries: { server: string; name: string; from: SealedSecret; to: SealedSecret }[]): number {
    let replaced = 0;
    for (const e of entries) {
      replaced += this.#sql.exec(
        "UPDATE server_secrets SET key_id = ?, iv = ?, ciphertext = ? WHERE server = ? AND name = ? AND key_id = ? AND iv = ?",
        e.to.keyId,
        e.to.iv,
        e.to.ciphertext,
        e.server,
        e.name,
        e.from.keyId,
        e.from.iv,
      ).rowsWritten;
    }
    return replaced;
  }

  #rows(server: string): Row[] {
    return this.#sql
      .exec<Row>("SELECT name, key_id, iv, ciphertext, created_at, updated_at FROM server_secrets WHERE server = ? ORDER BY name", server)
      .toArray();
  }

  /** Secrets of `server`, or of every server when null. */
  #count(server: string | null): number {
    return server === null
      ? this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM server_secrets").one().n
      : this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM server_secrets WHERE server = ?", server).one().n;
  }

  #revision(server: string): number {
    return this.#sql.exec<{ revision: number }>("SELECT revision FROM server_secret_revisions WHERE server = ?", server).toArray()[0]?.revision ?? 0;
  }

  #bump(server: string): number {
    return this.#sql
      .exec<{ revision: number }>(
        `INSERT INTO server_secret_revisions (server, revision) VALUES (?, 1)
         ON CONFLICT (server) DO UPDATE SET revision = revision + 1 RETURNING revision`,
        server,
      )
      .one().revision;
  }
}
