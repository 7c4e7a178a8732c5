/**
 * OAuthLimiterDO: the OAuth abuse limits that must hold across isolates.
 *
 * One object per client address (named `address:{digest}`, never by the address
 * itself) and one per tenant name (`tenant:{name}`, whether or not the tenant exists,
 * so the limit is no existence oracle). Rate buckets live in memory only: requests a
 * stranger sends write nothing lasting, and an eviction (objects are evicted after
 * seconds idle) only forgives what the bucket would mostly have refilled anyway.
 *
 * The one thing an address object keeps in SQLite is its live client registrations,
 * ids only and at most the cap. Registration already makes something lasting (the KV
 * record), and this is what bounds it. The table is created by the first registration,
 * so an object that only ever counted requests has no storage at all, and an alarm
 * deletes everything once the last registration has expired (docs/storage-schema.md).
 */
import { DurableObject } from "cloudflare:workers";
import { TokenBucket } from "@smcp/runtime";
import type { Env } from "../env";
import { migrate, schemaVersion, type MigrationList } from "../storage/migrations";

/**
 * The object's schema (runner: storage/migrations.ts). HOW TO ADD A STEP: append one at
 * the end; never edit a shipped step. It is applied by the first registration only, so
 * an object that only counts requests holds no storage.
 */
export const LIMITER_MIGRATIONS: MigrationList = {
  name: "OAuthLimiterDO",
  steps: [
    // 1: live client registrations of one address.
    `
CREATE TABLE registrations (
  client_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  expires_at INTEGER NOT NULL
);
`,
    // Append new steps here.
  ],
};

/**
 * The per-address buckets are per endpoint, plus `metadata` for client metadata
 * document fetches; an object named by a tenant uses `tenant` only, one named by a
 * document's host (`metadata-host:{digest}`) `metadata` only.
 */
export type LimitBucket = "register" | "authorize" | "token" | "tenant" | "metadata";

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

export class OAuthLimiterDO extends DurableObject<Env> {
  #buckets = new Map<LimitBucket, TokenBucket>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Only an object that holds registrations has a schema to bring up to date.
    if (this.#hasRegistrations()) migrate(ctx.storage, LIMITER_MIGRATIONS);
  }

  /** Takes one request from `bucket`, which holds `limit` requests and refills them over `windowMs`. */
  async take(bucket: LimitBucket, limit: number, windowMs: number): Promise<Take> {
    const now = Date.now();
    const rate = limit / (windowMs / 1000);
    let b = this.#buckets.get(bucket);
    if (!b || b.capacity !== limit || b.ratePerSecond !== rate) {
      b = new TokenBucket(rate, now, limit);
      this.#buckets.set(bucket, b);
    }
    const { granted, retryAfterMs } = b.take(1, now);
    return granted > 0 ? { ok: true } : { ok: false, retryAfterMs };
  }

  /**
   * Counts a new registration of this address. At the cap, the ones to make room are
   * evicted: never-used registrations first (oldest first), then the least recently
   * used, so a legitimate client can always register. Returns the evicted ids; the
   * caller deletes their records.
   */
  async registrationAdded(clientId: string, cap: number, ttlMs: number): Promise<{ ok: true; evicted: string[] }> {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    migrate(this.ctx.storage, LIMITER_MIGRATIONS);
    sql.exec("DELETE FROM registrations WHERE expires_at <= ?", now);
    const count = sql.exec<{ n: number }>("SELECT count(*) AS n FROM registrations").one().n;
    const excess = count - cap + 1;
    const evicted =
      excess > 0
        ? sql
            .exec<{ client_id: string }>(
              "SELECT client_id FROM registrations ORDER BY used_at IS NOT NULL, coalesce(used_at, created_at), rowid LIMIT ?",
              excess,
            )
            .toArray()
            .map((r) => r.client_id)
        : [];
    for (const id of evicted) sql.exec("DELETE FROM registrations WHERE client_id = ?", id);
    sql.exec("INSERT OR REPLACE INTO registrations (client_id, created_at, expires_at) VALUES (?, ?, ?)", clientId, now, now + ttlMs);
    await this.ctx.storage.setAlarm(now + ttlMs);
    return { ok: true, evicted };
  }

  /** The client got tokens: it is no longer evicted before never-used ones, and lives another `ttlMs`. */
  async registrationUsed(clientId: string, ttlMs: number): Promise<void> {
    if (!this.#hasRegistrations()) return;
    const now = Date.now();
    const changed = this.ctx.storage.sql.exec(
      "UPDATE registrations SET used_at = ?, expires_at = max(expires_at, ?) WHERE client_id = ?",
      now,
      now + ttlMs,
      clientId,
    ).rowsWritten;
    if (changed > 0) await this.ctx.storage.setAlarm(now + ttlMs);
  }

  /** The ids this address has registered and are still counted (for tests and operators). */
  async registrations(): Promise<{ clientId: string; used: boolean }[]> {
    if (!this.#hasRegistrations()) return [];
    return this.ctx.storage.sql
      .exec<{ client_id: string; used_at: number | null }>("SELECT client_id, used_at FROM registrations ORDER BY created_at, rowid")
      .toArray()
      .map((r) => ({ clientId: r.client_id, used: r.used_at !== null }));
  }

  /** Drops expired registrations; the object's storage goes when none is left. */
  async alarm(): Promise<void> {
    if (!this.#hasRegistrations()) return;
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM registrations WHERE expires_at <= ?", Date.now());
    const latest = sql.exec<{ at: number | null }>("SELECT max(expires_at) AS at FROM registrations").one().at;
    if (latest === null) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(latest);
  }

  #hasRegistrations(): boolean {
    return schemaVersion(this.ctx.storage) > 0;
  }
}
