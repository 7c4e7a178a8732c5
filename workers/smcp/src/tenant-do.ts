/**
 * TenantDO: one tenant's own SQLite database (SPEC section 4).
 *
 * It owns the tenant's config, hashed API keys, enabled servers, session index and
 * tool data. Nothing here is created until an admin creates the tenant: every method
 * first reads the config from the synchronous KV (a read creates no storage), so a
 * request for an unknown tenant leaves no trace. Methods return tagged results
 * instead of throwing, because errors lose their class across RPC.
 */
import { DurableObject } from "cloudflare:workers";
import { randomToken, sha256Hex, type ClientInfo } from "@smcp/runtime";
import type { Env } from "./env";
import { TENANT_SCHEMA } from "./tenant-schema";

export type TenantAuthMode = "key" | "none";

export interface TenantLimits {
  requestsPerSecond?: number;
  maxSessions?: number;
  eventLogBytes?: number;
  toolDataBytes?: number;
}

export interface TenantConfig {
  id: string;
  name: string;
  auth: TenantAuthMode;
  limits: TenantLimits;
  createdAt: number;
}

export interface KeyInfo {
  id: string;
  label: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface SessionRecord {
  id: string;
  server: string;
  keyId: string | null;
  protocolVersion: string;
  clientInfo: ClientInfo | null;
  createdAt: number;
  lastActivity: number;
  expiresAt: number;
}

export type AuthDecision =
  | { ok: true; keyId: string | null; auth: TenantAuthMode }
  | { ok: false; reason: "unknown-tenant" | "invalid-key" | "unknown-server" };

type Missing = { ok: false; reason: "unknown-tenant" };
const MISSING: Missing = { ok: false, reason: "unknown-tenant" };

const CONFIG_KEY = "config";

export class TenantDO extends DurableObject<Env> {
  get #sql() {
    return this.ctx.storage.sql;
  }

  #config(): TenantConfig | undefined {
    return this.ctx.storage.kv.get<TenantConfig>(CONFIG_KEY);
  }

  // --- lifecycle -------------------------------------------------------------

  async create(init: Omit<TenantConfig, "createdAt">): Promise<{ ok: true; tenant: TenantConfig } | { ok: false; reason: "exists" }> {
    if (this.#config()) return { ok: false, reason: "exists" };
    const tenant: TenantConfig = { ...init, createdAt: Date.now() };
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec(TENANT_SCHEMA);
      this.ctx.storage.kv.put(CONFIG_KEY, tenant);
    });
    return { ok: true, tenant };
  }

  async info(): Promise<TenantConfig | null> {
    return this.#config() ?? null;
  }

  /** Deletes every byte of the tenant; returns the sessions that were open so the caller can end them. */
  async destroy(): Promise<{ ok: true; sessions: { id: string; server: string }[] } | Missing> {
    if (!this.#config()) return MISSING;
    const sessions = this.#sql.exec<{ id: string; server: string }>("SELECT id, server FROM sessions").toArray();
    await this.ctx.storage.deleteAll();
    return { ok: true, sessions: sessions.map((s) => ({ id: s.id, server: s.server })) };
  }

  // --- keys ------------------------------------------------------------------

  async createKey(label: string): Promise<{ ok: true; key: string; info: KeyInfo } | Missing> {
    if (!this.#config()) return MISSING;
    const info: KeyInfo = { id: `key_${randomToken(9)}`, label, createdAt: Date.now(), revokedAt: null };
    const key = `smcp_sk_${randomToken(32)}`;
    this.#sql.exec(
      "INSERT INTO keys (id, label, hash, created_at) VALUES (?, ?, ?, ?)",
      info.id,
      label,
      await sha256Hex(key),
      info.createdAt,
    );
    return { ok: true, key, info };
  }

  async listKeys(): Promise<{ ok: true; keys: KeyInfo[] } | Missing> {
    if (!this.#config()) return MISSING;
    const keys = this.#sql
      .exec<{ id: string; label: string; created_at: number; revoked_at: number | null }>(
        "SELECT id, label, created_at, revoked_at FROM keys ORDER BY created_at, id",
      )
      .toArray()
      .map((k) => ({ id: k.id, label: k.label, createdAt: k.created_at, revokedAt: k.revoked_at }));
    return { ok: true, keys };
  }

  async revokeKey(id: string): Promise<{ ok: true } | Missing | { ok: false; reason: "unknown-key" }> {
    if (!this.#config()) return MISSING;
    const changed = this.#sql.exec("UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id)
      .rowsWritten;
    return changed > 0 ? { ok: true } : { ok: false, reason: "unknown-key" };
  }

  /**
   * Decides whether a request may use `server`: the tenant exists, the server is
   * enabled, and the key (given as its SHA-256) is live. Lookup is by digest, so the
   * comparison is an indexed equality on a hash, never on the secret itself.
   */
  async authorize(server: string, keyHash: string | null): Promise<AuthDecision> {
    const config = this.#config();
    if (!config) return { ok: false, reason: "unknown-tenant" };
    let keyId: string | null = null;
    if (config.auth === "key") {
      if (!keyHash) return { ok: false, reason: "invalid-key" };
      const row = this.#sql
        .exec<{ id: string }>("SELECT id FROM keys WHERE hash = ? AND revoked_at IS NULL", keyHash)
        .toArray()[0];
      if (!row) return { ok: false, reason: "invalid-key" };
      keyId = row.id;
    }
    const enabled = this.#sql.exec("SELECT 1 FROM servers WHERE name = ?", server).toArray().length > 0;
    if (!enabled) return { ok: false, reason: "unknown-server" };
    return { ok: true, keyId, auth: config.auth };
  }

  // --- servers ---------------------------------------------------------------

  async enableServer(name: string): Promise<{ ok: true; created: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    const written = this.#sql.exec("INSERT OR IGNORE INTO servers (name, enabled_at) VALUES (?, ?)", name, Date.now())
      .rowsWritten;
    return { ok: true, created: written > 0 };
  }

  async disableServer(name: string): Promise<{ ok: true } | Missing | { ok: false; reason: "unknown-server" }> {
    if (!this.#config()) return MISSING;
    const written = this.#sql.exec("DELETE FROM servers WHERE name = ?", name).rowsWritten;
    return written > 0 ? { ok: true } : { ok: false, reason: "unknown-server" };
  }

  async listServers(): Promise<{ ok: true; servers: { name: string; enabledAt: number }[] } | Missing> {
    if (!this.#config()) return MISSING;
    const servers = this.#sql
      .exec<{ name: string; enabled_at: number }>("SELECT name, enabled_at FROM servers ORDER BY name")
      .toArray()
      .map((s) => ({ name: s.name, enabledAt: s.enabled_at }));
    return { ok: true, servers };
  }

  // --- session index -----------------------------------------------------------

  async sessionOpened(record: SessionRecord): Promise<void> {
    if (!this.#config()) return;
    this.#sql.exec(
      `INSERT OR REPLACE INTO sessions (id, server, key_id, protocol_version, client_info, created_at, last_activity, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      record.id,
      record.server,
      record.keyId,
      record.protocolVersion,
      JSON.stringify(record.clientInfo ?? null),
      record.createdAt,
      record.lastActivity,
      record.expiresAt,
    );
  }

  async sessionTouched(id: string, lastActivity: number, expiresAt: number): Promise<void> {
    if (!this.#config()) return;
    this.#sql.exec("UPDATE sessions SET last_activity = ?, expires_at = ? WHERE id = ?", lastActivity, expiresAt, id);
  }

  async sessionClosed(id: string): Promise<void> {
    if (!this.#config()) return;
    this.#sql.exec("DELETE FROM sessions WHERE id = ?", id);
  }

  async listSessions(): Promise<{ ok: true; sessions: SessionRecord[] } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, sessions: this.#sessionRows("SELECT * FROM sessions ORDER BY created_at, id") };
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    if (!this.#config()) return null;
    return this.#sessionRows("SELECT * FROM sessions WHERE id = ?", id)[0] ?? null;
  }

  #sessionRows(query: string, ...bindings: unknown[]): SessionRecord[] {
    return this.#sql
      .exec<{
        id: string;
        server: string;
        key_id: string | null;
        protocol_version: string;
        client_info: string;
        created_at: number;
        last_activity: number;
        expires_at: number;
      }>(query, ...bindings)
      .toArray()
      .map((r) => ({
        id: r.id,
        server: r.server,
        keyId: r.key_id,
        protocolVersion: r.protocol_version,
        clientInfo: JSON.parse(r.client_info),
        createdAt: r.created_at,
        lastActivity: r.last_activity,
        expiresAt: r.expires_at,
      }));
  }

  // --- tool data (see tool-store.ts) ---------------------------------------------

  async dataPut(server: string, collection: string, id: string, valueJson: string): Promise<void> {
    if (!this.#config()) throw new Error("unknown tenant");
    this.#sql.exec(
      "INSERT OR REPLACE INTO tool_data (server, collection, id, value, updated_at) VALUES (?, ?, ?, ?, ?)",
      server,
      collection,
      id,
      valueJson,
      Date.now(),
    );
  }

  async dataGet(server: string, collection: string, id: string): Promise<ToolRecord | null> {
    if (!this.#config()) return null;
    return this.#records("SELECT id, value, updated_at FROM tool_data WHERE server = ? AND collection = ? AND id = ?", server, collection, id)[0] ?? null;
  }

  async dataList(server: string, collection: string, limit: number, after: string): Promise<ToolRecord[]> {
    if (!this.#config()) return [];
    return this.#records(
      "SELECT id, value, updated_at FROM tool_data WHERE server = ? AND collection = ? AND id > ? ORDER BY id LIMIT ?",
      server,
      collection,
      after,
      clampLimit(limit),
    );
  }

  async dataSearch(server: string, collection: string, text: string, limit: number): Promise<ToolRecord[]> {
    if (!this.#config()) return [];
    return this.#records(
      "SELECT id, value, updated_at FROM tool_data WHERE server = ? AND collection = ? AND instr(lower(value), lower(?)) > 0 ORDER BY id LIMIT ?",
      server,
      collection,
      text,
      clampLimit(limit),
    );
  }

  async dataDelete(server: string, collection: string, id: string): Promise<boolean> {
    if (!this.#config()) return false;
    return this.#sql.exec("DELETE FROM tool_data WHERE server = ? AND collection = ? AND id = ?", server, collection, id)
      .rowsWritten > 0;
  }

  #records(query: string, ...bindings: unknown[]): ToolRecord[] {
    return this.#sql
      .exec<{ id: string; value: string; updated_at: number }>(query, ...bindings)
      .toArray()
      .map((r) => ({ id: r.id, value: JSON.parse(r.value), updatedAt: r.updated_at }));
  }
}

interface ToolRecord {
  id: string;
  value: unknown;
  updatedAt: number;
}

const clampLimit = (limit: number) => Math.max(1, Math.min(500, Math.trunc(limit) || 1));
