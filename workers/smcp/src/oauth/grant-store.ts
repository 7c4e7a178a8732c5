/**
 * A tenant's OAuth grants, codes and tokens, in the tenant's own SQLite.
 *
 * The TenantDO owns the storage and calls in here through thin RPC wrappers; this
 * module owns the rules. Everything a grant needs to be checked lives next to the
 * tenant's keys and servers, so one synchronous step can check a code or token, the
 * key that approved its grant, and the server, and then write: no other request can
 * run in between, which is what makes codes and refresh tokens single-use. A grant
 * dies with its tenant (`deleteAll`), with the revocation of the key that approved it
 * (checked on every use), or, for a grant a person approved by single sign-on (its
 * `subject`, no key), with an admin's revocation of that subject (`revokeGrantsOfSubject`)
 * and at its lifetime cap (`max_expires_at`, which no token of it outlives), when a used
 * code or refresh token is presented again
 * (OAuth 2.1 §4.1.3 and §4.3.1: a replay revokes the whole grant), or when an admin
 * revokes it (`revokeGrantById`). Admins list grants with the client's name as it was
 * approved and the hour of last use (`listGrants`; the hour is written at most once
 * per hour per grant, whatever the traffic).
 *
 * Only SHA-256 digests of codes and tokens are stored; the Worker mints the secrets
 * and hashes them before calling in. The tables are steps 3, 7, 12 and 16 of the tenant's
 * migration list (tenant-schema.ts). See docs/storage-schema.md.
 *
 * What a grant keeps is bounded whatever its client does: every rotation compacts
 * the grant to its newest `KEEP_ACCESS_TOKENS` access tokens and `KEEP_USED_REFRESH`
 * used refresh tokens (enough to catch the replay of a recently rotated one), so a
 * client refreshing every minute does not grow the table. A client that has redeemed
 * a code here is recorded as trusted (`oauth_trusted_clients`, at most
 * `MAX_TRUSTED_CLIENTS`): only those get `/authorize` errors redirected to them.
 *
 * Every refusal of a code or refresh token that the presenter cannot be shown to hold
 * has the one description of its kind (`UNKNOWN_CODE`, `UNKNOWN_REFRESH`), which the
 * token endpoint also gives when the named tenant does not exist: the answer is no
 * oracle of which tenants exist.
 */
import { randomToken } from "@smcp/runtime";
import { PLATFORM_ADMIN_ACTOR } from "../tenant/acting-admin";
import type { AuthFailureReason } from "../tenant/auth-failures";
import type { SessionEndCause } from "../tenant/types";
import { ACCESS_TOKEN_TTL_MS, CODE_TTL_MS, REFRESH_TOKEN_TTL_MS } from "./tokens";

/** Step 3 of TENANT_MIGRATIONS as it shipped: never edit it; append a step there instead. */
export const GRANT_SCHEMA = `
CREATE TABLE IF NOT EXISTS oauth_grants (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  server TEXT NOT NULL,
  resource TEXT NOT NULL,
  key_id TEXT,
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_codes (
  hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
  hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX IF NOT EXISTS oauth_codes_by_grant ON oauth_codes (grant_id);
CREATE INDEX IF NOT EXISTS oauth_tokens_by_grant ON oauth_tokens (grant_id);
CREATE INDEX IF NOT EXISTS oauth_grants_by_expiry ON oauth_grants (expires_at);
`;

/** What the grant store needs from the tenant object that hosts it. */
export interface GrantHost {
  sql: SqlStorage;
  auth: "key" | "none";
  keyIsLive(keyId: string): boolean;
  serverEnabled(server: string): boolean;
  audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void>;
  /** Counts a failed authentication a stranger can cause; aggregated, never one row each (tenant/auth-failures.ts). */
  authFailed(reason: AuthFailureReason): Promise<void>;
  /** A grant or one of its access tokens was revoked: the sessions opened under it must end. */
  grantRevoked(grantId: string, cause: SessionEndCause): Promise<void>;
}

export interface CodeGrantInit {
  codeHash: string;
  clientId: string;
  /** The client's name as the approval page showed it (clipped to `MAX_CLIENT_NAME_CHARS`); null if it gave none. */
  clientName?: string | null;
  server: string;
  resource: string;
  /** The tenant key that approved the grant (null on a tenant with `auth: "none"`, and for a person's sign-in). */
  keyId: string | null;
  /** The person who approved it by signing in at the tenant's identity provider (sso/), instead of a key. */
  person?: SignedInPerson | null;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
}

/** Who signed in, and until when the grant may live whatever its refreshes (`SMCP_SSO_GRANT_MAX_SECONDS`). */
export interface SignedInPerson {
  subject: string;
  email: string | null;
  maxExpiresAt: number;
}

export interface CodeRedemption {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  /** S256 of the presented `code_verifier`, computed by the Worker. */
  verifierChallenge: string;
  /** The `resource` of the token request, when sent (canonical spelling). */
  resource: string | null;
  accessHash: string;
  /** Null when the client did not register the refresh_token grant. */
  refreshHash: string | null;
}

export interface TokenRefresh {
  refreshHash: string;
  clientId: string;
  resource: string | null;
  accessHash: string;
  newRefreshHash: string;
}

export interface AccessCheck {
  tokenHash: string;
  server: string;
  /** The MCP URL the token is presented at: must be the grant's audience. */
  resource: string;
}

export type Issued = { ok: true; scope: string; resource: string; accessExpiresAt: number; refreshExpiresAt: number | null };
export type GrantRefusal = { ok: false; reason: "invalid-grant" | "invalid-target"; detail: string };
export type AccessDecision =
  | { ok: true; keyId: string | null; grantId: string | null; expiresAt: number }
  | { ok: false; reason: "invalid-token" | "unknown-server" };

type GrantRow = {
  grant_id: string;
  client_id: string;
  server: string;
  resource: string;
  key_id: string | null;
  scope: string;
  subject: string | null;
  max_expires_at: number | null;
};

/** What an admin sees of a grant (`GET /admin/v1/tenants/{t}/grants`). */
export interface GrantInfo {
  seq: number;
  id: string;
  /** `name` as the client gave it at approval; null if it gave none. */
  client: { id: string; name: string | null };
  /** The tenant key that approved it (null on `auth: "none"`), or the person who signed in (`subject`, and `email` when verified). */
  approver: { keyId: string | null; subject: string | null; email: string | null };
  server: string;
  createdAt: number;
  /** The start of the hour of its last use (code redeemed, token refreshed or checked); null if never used. */
  lastUsedAt: number | null;
  expiresAt: number;
}

/** How coarse `last_used_at` is: one write per grant per period at most. */
export const LAST_USED_PERIOD_MS = 60 * 60 * 1000;
/** Longest client name stored with a grant. */
export const MAX_CLIENT_NAME_CHARS = 100;

/** The one description of an unknown, expired or forged code or refresh token, whatever the tenant. */
export const UNKNOWN_CODE = "Unknown or expired authorization code";
export const UNKNOWN_REFRESH = "Unknown or expired refresh token";

/** Per grant: the newest access tokens kept, and the newest used refresh tokens kept to detect a replay. */
export const KEEP_ACCESS_TOKENS = 2;
export const KEEP_USED_REFRESH = 2;
/** Trusted clients per tenant; the least recently trusted goes first. */
export const MAX_TRUSTED_CLIENTS = 1000;

const refuse = (detail: string, reason: GrantRefusal["reason"] = "invalid-grant"): GrantRefusal => ({ ok: false, reason, detail });

export class GrantStore {
  #host: GrantHost;
  #sql: SqlStorage;

  constructor(host: GrantHost) {
    this.#host = host;
    this.#sql = host.sql;
  }

  /** Records an approved authorization request: a new grant and its one code. */
  async issueCode(init: CodeGrantInit): Promise<{ ok: true; grantId: string }> {
    const now = Date.now();
    this.#sweep(now);
    const grantId = `grant_${randomToken(12)}`;
    this.#sql.exec(
      "INSERT INTO oauth_grants (id, client_id, client_name, server, resource, key_id, scope, created_at, expires_at, subject, email, max_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      grantId,
      init.clientId,
      clipName(init.clientName),
      init.server,
      init.resource,
      init.keyId,
      init.scope,
      now,
      now + CODE_TTL_MS,
      init.person?.subject ?? null,
      init.person?.email ?? null,
      init.person?.maxExpiresAt ?? null,
    );
    this.#sql.exec(
      "INSERT INTO oauth_codes (hash, grant_id, redirect_uri, code_challenge, expires_at) VALUES (?, ?, ?, ?, ?)",
      init.codeHash,
      grantId,
      init.redirectUri,
      init.codeChallenge,
      now + CODE_TTL_MS,
    );
    const approver = init.person ? personActor(init.person.subject) : actorOf(init.keyId);
    await this.#host.audit(approver, "oauth.authorized", grantId, { client: init.clientId, server: init.server, ...(init.person ? { email: init.person.email } : {}) });
    return { ok: true, grantId };
  }

  /** The authorization-code grant (RFC 6749 §4.1.3 with RFC 7636 §4.6). */
  async redeemCode(r: CodeRedemption): Promise<Issued | GrantRefusal> {
    const now = Date.now();
    const row = this.#sql
      .exec<GrantRow & { redirect_uri: string; code_challenge: string; expires_at: number; used_at: number | null }>(
        `SELECT c.grant_id, c.redirect_uri, c.code_challenge, c.expires_at, c.used_at, g.client_id, g.server, g.resource, g.key_id, g.scope, g.subject, g.max_expires_at
         FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.hash = ?`,
        r.codeHash,
      )
      .toArray()[0];
    if (!row) {
      await this.#host.authFailed("unknown-code");
      return refuse(UNKNOWN_CODE);
    }
    if (row.client_id !== r.clientId) return refuse("The authorization code was issued to another client");
    if (row.used_at !== null) {
      await this.#revokeGrant(row.grant_id, "authorization code used twice");
      return refuse("The authorization code was already used; its grant is revoked");
    }
    if (row.expires_at <= now) return refuse(UNKNOWN_CODE);
    if (row.redirect_uri !== r.redirectUri) return refuse("redirect_uri does not match the authorization request");
    if (row.code_challenge !== r.verifierChallenge) return refuse("PKCE verification failed: code_verifier does not match code_challenge");
    if (r.resource !== null && r.resource !== row.resource) return refuse("resource does not match the authorization request", "invalid-target");
    if (!this.#approverLive(row)) return refuse("The key that approved this grant has been revoked");
    if (row.max_expires_at !== null && row.max_expires_at <= now) return refuse(SIGN_IN_CAPPED);
    this.#sql.exec("UPDATE oauth_codes SET used_at = ? WHERE hash = ?", now, r.codeHash);
    this.#touch(row.grant_id, now);
    this.#trustClient(row.client_id, now);
    return this.#issueTokens(row, r.accessHash, r.refreshHash, now);
  }

  /** The refresh-token grant (RFC 6749 §6), rotating the refresh token (OAuth 2.1 §4.3.1). */
  async refresh(r: TokenRefresh): Promise<Issued | GrantRefusal> {
    const now = Date.now();
    this.#sweep(now);
    const row = this.#sql
      .exec<GrantRow & { expires_at: number; used_at: number | null }>(
        `SELECT t.grant_id, t.expires_at, t.used_at, g.client_id, g.server, g.resource, g.key_id, g.scope, g.subject, g.max_expires_at
         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.hash = ? AND t.kind = 'refresh'`,
        r.refreshHash,
      )
      .toArray()[0];
    if (!row || row.expires_at <= now) {
      await this.#host.authFailed("unknown-refresh-token");
      return refuse(UNKNOWN_REFRESH);
    }
    if (row.client_id !== r.clientId) return refuse("The refresh token was issued to another client");
    if (row.used_at !== null) {
      await this.#revokeGrant(row.grant_id, "refresh token used twice");
      return refuse("The refresh token was already used; its grant is revoked");
    }
    if (r.resource !== null && r.resource !== row.resource) return refuse("resource does not match the grant", "invalid-target");
    if (!this.#approverLive(row)) return refuse("The key that approved this grant has been revoked");
    if (row.max_expires_at !== null && row.max_expires_at <= now) return refuse(SIGN_IN_CAPPED);
    this.#sql.exec("UPDATE oauth_tokens SET used_at = ? WHERE hash = ?", now, r.refreshHash);
    this.#touch(row.grant_id, now);
    return this.#issueTokens(row, r.accessHash, r.newRefreshHash, now);
  }

  /** Whether the client has redeemed a code with this tenant (so `/authorize` may redirect errors to it). */
  clientTrusted(clientId: string): boolean {
    return this.#sql.exec("SELECT 1 FROM oauth_trusted_clients WHERE client_id = ?", clientId).toArray().length > 0;
  }

  /**
   * Whether an access token may be used at `resource` now. On a tenant without keys
   * (`auth: "none"`) any bearer value passes, exactly as a tenant key would.
   */
  async checkAccess(c: AccessCheck): Promise<AccessDecision> {
    if (this.#host.auth === "none") {
      return this.#host.serverEnabled(c.server) ? { ok: true, keyId: null, grantId: null, expiresAt: Number.MAX_SAFE_INTEGER } : { ok: false, reason: "unknown-server" };
    }
    const now = Date.now();
    const row = this.#sql
      .exec<{ grant_id: string; expires_at: number; server: string; resource: string; key_id: string | null; subject: string | null }>(
        `SELECT t.grant_id, t.expires_at, g.server, g.resource, g.key_id, g.subject
         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.hash = ? AND t.kind = 'access'`,
        c.tokenHash,
      )
      .toArray()[0];
    const reason: AuthFailureReason | null =
      !row || row.expires_at <= now
        ? "invalid-token"
        : row.server !== c.server || row.resource !== c.resource
          ? "token-audience"
          : row.subject === null && (row.key_id === null || !this.#host.keyIsLive(row.key_id))
            ? "approver-revoked"
            : null;
    if (reason !== null || !row) {
      await this.#host.authFailed(reason ?? "invalid-token");
      return { ok: false, reason: "invalid-token" };
    }
    if (!this.#host.serverEnabled(c.server)) return { ok: false, reason: "unknown-server" };
    this.#touch(row.grant_id, now);
    return { ok: true, keyId: row.key_id, grantId: row.grant_id, expiresAt: row.expires_at };
  }

  /**
   * Token revocation (RFC 7009 §2.1): a refresh token takes its whole grant with it,
   * an access token only itself. Tokens of other clients are left alone.
   */
  async revoke(tokenHash: string, clientId: string): Promise<{ ok: true }> {
    const row = this.#sql
      .exec<{ grant_id: string; kind: string; client_id: string }>(
        "SELECT t.grant_id, t.kind, g.client_id FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.hash = ?",
        tokenHash,
      )
      .toArray()[0];
    if (!row || row.client_id !== clientId) return { ok: true };
    const client = `client:${clientId}`;
    if (row.kind === "refresh") await this.#revokeGrant(row.grant_id, "revoked by the client", client);
    else {
      this.#sql.exec("DELETE FROM oauth_tokens WHERE hash = ?", tokenHash);
      await this.#host.grantRevoked(row.grant_id, { actor: client, cause: `access token of grant ${row.grant_id} revoked by the client` });
    }
    return { ok: true };
  }

  /**
   * The live grants (not expired, not revoked, approver not revoked), oldest first, a
   * page at a time: `after` is the `seq` (rowid) of the last grant of the previous page.
   */
  listGrants(after: number, limit: number): GrantInfo[] {
    return this.#sql
      .exec<{ seq: number; id: string; client_id: string; client_name: string | null; key_id: string | null; subject: string | null; email: string | null; server: string; created_at: number; last_used_at: number | null; expires_at: number }>(
        `SELECT rowid AS seq, id, client_id, client_name, key_id, subject, email, server, created_at, last_used_at, expires_at FROM oauth_grants
         WHERE rowid > ? AND revoked_at IS NULL AND expires_at > ?
           AND (subject IS NOT NULL OR key_id IS NULL OR key_id IN (SELECT id FROM keys WHERE revoked_at IS NULL))
         ORDER BY rowid LIMIT ?`,
        after,
        Date.now(),
        limit,
      )
      .toArray()
      .map((g) => ({
        seq: g.seq,
        id: g.id,
        client: { id: g.client_id, name: g.client_name },
        approver: { keyId: g.key_id, subject: g.subject, email: g.email },
        server: g.server,
        createdAt: g.created_at,
        lastUsedAt: g.last_used_at,
        expiresAt: g.expires_at,
      }));
  }

  /**
   * An admin's revocation of grant `grantId`: its tokens and codes go at once and the
   * row is marked (kept until it expires), so a repeat finds it and the caller can
   * re-drive the end of its sessions. Ending them is the caller's (it reports each).
   */
  async revokeGrantById(grantId: string): Promise<{ ok: true; alreadyRevoked: boolean } | { ok: false; reason: "unknown-grant" }> {
    const now = Date.now();
    const row = this.#sql
      .exec<{ revoked_at: number | null; client_id: string }>("SELECT revoked_at, client_id FROM oauth_grants WHERE id = ? AND expires_at > ?", grantId, now)
      .toArray()[0];
    if (!row) return { ok: false, reason: "unknown-grant" };
    if (row.revoked_at !== null) return { ok: true, alreadyRevoked: true };
    this.#markRevoked(grantId, now);
    await this.#host.audit(PLATFORM_ADMIN_ACTOR, "oauth.revoked", grantId, { reason: "revoked by an admin", client: row.client_id });
    return { ok: true, alreadyRevoked: false };
  }

  /**
   * An admin's revocation of every grant a person signed in for (`subject`): as
   * `revokeGrantById` for each. Returns the grants revoked now and those already revoked
   * but not yet expired (whose sessions the caller ends again, for a repeat's re-drive).
   */
  async revokeGrantsOfSubject(subject: string): Promise<{ revoked: string[]; alreadyRevoked: string[] }> {
    const now = Date.now();
    const rows = this.#sql
      .exec<{ id: string; revoked_at: number | null; client_id: string }>(
        "SELECT id, revoked_at, client_id FROM oauth_grants WHERE subject = ? AND expires_at > ? ORDER BY rowid",
        subject,
        now,
      )
      .toArray();
    const revoked: string[] = [];
    const alreadyRevoked: string[] = [];
    for (const row of rows) {
      if (row.revoked_at !== null) {
        alreadyRevoked.push(row.id);
        continue;
      }
      this.#markRevoked(row.id, now);
      revoked.push(row.id);
    }
    for (const id of revoked) {
      await this.#host.audit(PLATFORM_ADMIN_ACTOR, "oauth.revoked", id, { reason: "revoked by an admin, with every grant of its subject", subject, client: rows.find((r) => r.id === id)!.client_id });
    }
    return { revoked, alreadyRevoked };
  }

  /** An admin's revocation: tokens and codes go at once; the row stays, marked, until it expires. */
  #markRevoked(grantId: string, now: number): void {
    this.#sql.exec("DELETE FROM oauth_tokens WHERE grant_id = ?", grantId);
    this.#sql.exec("DELETE FROM oauth_codes WHERE grant_id = ?", grantId);
    this.#sql.exec("UPDATE oauth_grants SET revoked_at = ? WHERE id = ?", now, grantId);
  }

  /**
   * Records that the grant was used this period: the start of the period is stored, and
   * only when it differs from the one stored, so a busy client writes once an hour.
   */
  #touch(grantId: string, now: number): void {
    const period = now - (now % LAST_USED_PERIOD_MS);
    this.#sql.exec("UPDATE oauth_grants SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)", period, grantId, period);
  }

  #issueTokens(row: GrantRow, accessHash: string, refreshHash: string | null, now: number): Issued {
    // A person's sign-in is good for a capped time: no token of its grant outlives the cap.
    const cap = row.max_expires_at ?? Number.MAX_SAFE_INTEGER;
    const accessExpiresAt = Math.min(now + ACCESS_TOKEN_TTL_MS, cap);
    const refreshExpiresAt = refreshHash ? Math.min(now + REFRESH_TOKEN_TTL_MS, cap) : null;
    this.#sql.exec("INSERT INTO oauth_tokens (hash, grant_id, kind, expires_at) VALUES (?, ?, 'access', ?)", accessHash, row.grant_id, accessExpiresAt);
    if (refreshHash) {
      this.#sql.exec("INSERT INTO oauth_tokens (hash, grant_id, kind, expires_at) VALUES (?, ?, 'refresh', ?)", refreshHash, row.grant_id, refreshExpiresAt);
    }
    // The grant lives as long as its longest-lived token.
    this.#sql.exec(
      "UPDATE oauth_grants SET expires_at = max(expires_at, ?) WHERE id = ?",
      refreshExpiresAt ?? accessExpiresAt,
      row.grant_id,
    );
    this.#compact(row.grant_id);
    return { ok: true, scope: row.scope, resource: row.resource, accessExpiresAt, refreshExpiresAt };
  }

  /**
   * Keeps the grant's newest access tokens and newest used refresh tokens, and drops
   * the rest. An older rotated refresh token presented again is then merely unknown
   * (refused, without revoking the grant): replay detection covers the last rotations,
   * which is when a stolen token races its owner.
   */
  #compact(grantId: string): void {
    const keepNewest = (filter: string, keep: number, order: string) =>
      this.#sql.exec(
        `DELETE FROM oauth_tokens WHERE grant_id = ? AND ${filter}
         AND hash NOT IN (SELECT hash FROM oauth_tokens WHERE grant_id = ? AND ${filter} ORDER BY ${order} DESC, rowid DESC LIMIT ?)`,
        grantId,
        grantId,
        keep,
      );
    keepNewest("kind = 'access'", KEEP_ACCESS_TOKENS, "expires_at");
    keepNewest("kind = 'refresh' AND used_at IS NOT NULL", KEEP_USED_REFRESH, "used_at");
  }

  #trustClient(clientId: string, now: number): void {
    this.#sql.exec(
      "INSERT INTO oauth_trusted_clients (client_id, trusted_at) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET trusted_at = excluded.trusted_at",
      clientId,
      now,
    );
    this.#sql.exec(
      `DELETE FROM oauth_trusted_clients WHERE client_id IN
       (SELECT client_id FROM oauth_trusted_clients ORDER BY trusted_at DESC, rowid DESC LIMIT -1 OFFSET ?)`,
      MAX_TRUSTED_CLIENTS,
    );
  }

  /** A key's grant lives while its key does; a person's sign-in is revoked by subject instead. */
  #approverLive(row: { key_id: string | null; subject: string | null }): boolean {
    if (row.subject !== null) return true;
    return row.key_id === null ? this.#host.auth === "none" : this.#host.keyIsLive(row.key_id);
  }

  async #revokeGrant(grantId: string, reason: string, actor = "platform"): Promise<void> {
    this.#deleteGrants("id = ?", grantId);
    await this.#host.audit(actor, "oauth.revoked", grantId, { reason });
    await this.#host.grantRevoked(grantId, { actor, cause: `grant ${grantId} revoked: ${reason}` });
  }

  /** Drops expired grants with everything they own, and expired tokens and codes of live grants. */
  #sweep(now: number): void {
    this.#deleteGrants("expires_at <= ?", now);
    this.#sql.exec("DELETE FROM oauth_tokens WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM oauth_codes WHERE expires_at <= ? AND used_at IS NULL", now);
  }

  #deleteGrants(where: string, binding: string | number): void {
    const ids = `SELECT id FROM oauth_grants WHERE ${where}`;
    this.#sql.exec(`DELETE FROM oauth_tokens WHERE grant_id IN (${ids})`, binding);
    this.#sql.exec(`DELETE FROM oauth_codes WHERE grant_id IN (${ids})`, binding);
    this.#sql.exec(`DELETE FROM oauth_grants WHERE ${where}`, binding);
  }
}

/**
 * Whether grant `grantId` exists and has not expired: a session opened under it may
 * still be admitted. The grant tables exist only once the tenant has used OAuth.
 */
export function isGrantLive(sql: SqlStorage, grantId: string): boolean {
  const hasGrants = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oauth_grants'").toArray().length > 0;
  return hasGrants && sql.exec("SELECT 1 FROM oauth_grants WHERE id = ? AND expires_at > ? AND revoked_at IS NULL", grantId, Date.now()).toArray().length > 0;
}

const clipName = (name: string | null | undefined) => (name ? name.slice(0, MAX_CLIENT_NAME_CHARS) : null);

const actorOf = (keyId: string | null) => (keyId ? `key:${keyId}` : "anonymous");

/** The audit actor of a person who signed in at the tenant's identity provider. */
export const personActor = (subject: string) => `sso:${subject}`;

/** Why a person's grant cannot be refreshed any more. */
export const SIGN_IN_CAPPED = "The sign-in behind this grant has reached its lifetime cap; sign in again";
