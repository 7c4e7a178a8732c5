/**
 * TenantDO: one tenant's own SQLite database (SPEC section 4).
 *
 * It owns the tenant's config, hashed API keys, enabled servers, session index and
 * tool data. Nothing here is created until an admin creates the tenant: every method
 * first reads the config from the synchronous KV (a read creates no storage), so a
 * request for an unknown tenant leaves no trace. Methods return tagged results
 * instead of throwing, because errors lose their class across RPC.
 *
 * Every admin action and auth event is appended to the tenant's audit log, a hash
 * chain that SQLite triggers keep append-only.
 */
import { DurableObject } from "cloudflare:workers";
import {
  AUDIT_GENESIS,
  TokenBucket,
  auditHash,
  platformConfig,
  randomToken,
  sessionObjectName,
  sha256Hex,
  verifyAuditChain,
  type AuditEntry,
  type ChainVerdict,
  type ClientInfo,
} from "@smcp/runtime";
import type { Env } from "./env";
import { effectiveLimits, type EffectiveLimits } from "./limits";
import { TENANT_SCHEMA } from "./tenant-schema";
import { GrantStore, type AccessCheck, type CodeGrantInit, type CodeRedemption, type TokenRefresh } from "./oauth/grant-store";
import { DeploymentStore, type CallReport, type NewBundle } from "./sandbox/deployment-store";

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

/** What a session reports to the tenant's index as it runs (cumulative counters). */
export interface SessionUpdate {
  lastActivity: number;
  expiresAt: number;
  requests: number;
  errors: number;
  eventBytes: number;
}

export interface TenantStats {
  sessions: number;
  sessionsByServer: Record<string, number>;
  requests: number;
  errors: number;
  eventLogBytes: number;
  alarms: number;
  alarmFailures: number;
  alarmLagMsMax: number;
  alarmLagMsAvg: number;
}

interface StatsRecord {
  closedRequests: number;
  closedErrors: number;
  alarms: number;
  alarmFailures: number;
  alarmLagMsMax: number;
  alarmLagMsTotal: number;
}

const EMPTY_STATS: StatsRecord = { closedRequests: 0, closedErrors: 0, alarms: 0, alarmFailures: 0, alarmLagMsMax: 0, alarmLagMsTotal: 0 };
const STATS_KEY = "stats";
const TOOL_DATA_BYTES_KEY = "toolDataBytes";
/** At most one `limit.hit` audit entry per kind in this many ms, so a flood cannot flood the audit log. */
const LIMIT_AUDIT_INTERVAL_MS = 10_000;

export type SessionAdmission =
  | { ok: true; eventLogBytes: number }
  | { ok: false; reason: "unknown-tenant" }
  | { ok: false; reason: "session-limit"; limit: number };

export type DataPutResult = { ok: true } | { ok: false; reason: "unknown-tenant" } | { ok: false; reason: "quota"; limit: number; used: number };

export type AuthDecision =
  | { ok: true; keyId: string | null; auth: TenantAuthMode }
  | { ok: false; reason: "unknown-tenant" | "invalid-key" | "unknown-server" };

type Missing = { ok: false; reason: "unknown-tenant" };
const MISSING: Missing = { ok: false, reason: "unknown-tenant" };

const CONFIG_KEY = "config";

export class TenantDO extends DurableObject<Env> {
  /** Appends run one at a time: each needs the previous entry's hash. */
  #auditTail: Promise<unknown> = Promise.resolve();
  /** Rate state lives in memory: losing it on eviction only forgives one second of traffic. */
  #bucket: TokenBucket | undefined;
  #lastLimitAudit = new Map<string, number>();

  #limits(config: TenantConfig): EffectiveLimits {
    return effectiveLimits(config.limits, platformConfig(this.env));
  }
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
    await this.#audit("admin", "tenant.created", tenant.id, { auth: tenant.auth, limits: tenant.limits });
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
    await this.#audit("admin", "key.created", info.id, { label });
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
    if (changed === 0) return { ok: false, reason: "unknown-key" };
    await this.#audit("admin", "key.revoked", id, {});
    // Open sessions of a revoked key end now, streams included; new requests fail auth.
    const sessions = this.#sql.exec<{ id: string; server: string }>("SELECT id, server FROM sessions WHERE key_id = ?", id).toArray();
    const tenant = this.#config()!.id;
    await Promise.all(
      sessions.map((s) => this.env.SESSION.get(this.env.SESSION.idFromName(sessionObjectName(tenant, s.server, s.id))).terminate()),
    );
    return { ok: true };
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
      const row = keyHash
        ? this.#sql.exec<{ id: string }>("SELECT id FROM keys WHERE hash = ? AND revoked_at IS NULL", keyHash).toArray()[0]
        : undefined;
      if (!row) {
        await this.#audit("anonymous", "auth.failed", server, { reason: keyHash ? "invalid or revoked key" : "no key" });
        return { ok: false, reason: "invalid-key" };
      }
      keyId = row.id;
    }
    const enabled = this.#sql.exec("SELECT 1 FROM servers WHERE name = ?", server).toArray().length > 0;
    if (!enabled) return { ok: false, reason: "unknown-server" };
    return { ok: true, keyId, auth: config.auth };
  }

  // --- OAuth grants (the rules are in oauth/grant-store.ts) ------------------------

  async oauthIssueCode(init: CodeGrantInit) {
    return this.#grants((g) => g.issueCode(init));
  }

  async oauthRedeemCode(redemption: CodeRedemption) {
    return this.#grants((g) => g.redeemCode(redemption));
  }

  async oauthRefresh(refresh: TokenRefresh) {
    return this.#grants((g) => g.refresh(refresh));
  }

  async oauthCheckAccess(check: AccessCheck) {
    return this.#grants((g) => g.checkAccess(check));
  }

  async oauthRevoke(tokenHash: string, clientId: string) {
    return this.#grants((g) => g.revoke(tokenHash, clientId));
  }

  async #grants<T>(run: (grants: GrantStore) => Promise<T>): Promise<T | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    return run(
      new GrantStore({
        sql: this.#sql,
        auth: config.auth,
        keyIsLive: (id) => this.#sql.exec("SELECT 1 FROM keys WHERE id = ? AND revoked_at IS NULL", id).toArray().length > 0,
        serverEnabled: (name) => this.#sql.exec("SELECT 1 FROM servers WHERE name = ?", name).toArray().length > 0,
        audit: (actor, action, target, detail) => this.#audit(actor, action, target, detail),
      }),
    );
  }

  // --- servers ---------------------------------------------------------------

  async enableServer(name: string): Promise<{ ok: true; created: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    const written = this.#sql.exec("INSERT OR IGNORE INTO servers (name, enabled_at) VALUES (?, ?)", name, Date.now())
      .rowsWritten;
    if (written > 0) await this.#audit("admin", "server.enabled", name, {});
    return { ok: true, created: written > 0 };
  }

  async disableServer(name: string): Promise<{ ok: true } | Missing | { ok: false; reason: "unknown-server" }> {
    if (!this.#config()) return MISSING;
    const written = this.#sql.exec("DELETE FROM servers WHERE name = ?", name).rowsWritten;
    if (written === 0) return { ok: false, reason: "unknown-server" };
    await this.#audit("admin", "server.disabled", name, {});
    return { ok: true };
  }

  async listServers(): Promise<{ ok: true; servers: { name: string; enabledAt: number }[] } | Missing> {
    if (!this.#config()) return MISSING;
    const servers = this.#sql
      .exec<{ name: string; enabled_at: number }>("SELECT name, enabled_at FROM servers ORDER BY name")
      .toArray()
      .map((s) => ({ name: s.name, enabledAt: s.enabled_at }));
    return { ok: true, servers };
  }

  // --- deployed servers (the rules are in sandbox/deployment-store.ts) -------------

  async deploymentCreate(server: string, bundle: NewBundle) {
    return this.#deployments((d) => d.deploy(server, bundle));
  }

  async deploymentActivate(server: string, version: number) {
    return this.#deployments((d) => d.activate(server, version));
  }

  async deploymentList(server: string) {
    return this.#deployments((d) => d.list(server));
  }

  async deploymentGet(server: string, version: number, withSource = false) {
    return this.#deployments((d) => d.get(server, version, withSource));
  }

  async deploymentActive(server: string) {
    return this.#deployments((d) => d.active(server));
  }

  async deploymentView(server: string) {
    return this.#deployments((d) => d.view(server));
  }

  async deploymentSetEgress(server: string, allow: string[]) {
    return this.#deployments((d) => d.setEgress(server, allow));
  }

  async deploymentReport(server: string, version: number, report: CallReport) {
    return this.#deployments((d) => d.report(server, version, report));
  }

  async deploymentRefused(server: string, reason: string) {
    return this.#deployments(() => this.#audit("admin", "deployment.refused", server, { reason }));
  }

  async #deployments<T>(run: (store: DeploymentStore) => T): Promise<{ ok: true; value: Awaited<T> } | Missing> {
    if (!this.#config()) return MISSING;
    const store = new DeploymentStore({
      sql: this.#sql,
      enableServer: (name) => void this.#sql.exec("INSERT OR IGNORE INTO servers (name, enabled_at) VALUES (?, ?)", name, Date.now()),
      audit: (actor, action, target, detail) => this.#audit(actor, action, target, detail),
    });
    return { ok: true, value: await run(store) };
  }

  // --- session index -----------------------------------------------------------

  /** Admits a new session under the tenant's session limit and indexes it, in one step. */
  async sessionOpened(record: SessionRecord): Promise<SessionAdmission> {
    const config = this.#config();
    if (!config) return { ok: false, reason: "unknown-tenant" };
    const limits = this.#limits(config);
    const open = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions").one().n;
    if (open >= limits.maxSessions) {
      await this.#limitHit("sessions", { limit: limits.maxSessions });
      return { ok: false, reason: "session-limit", limit: limits.maxSessions };
    }
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
    await this.#audit(actorOf(record.keyId), "session.created", record.id, {
      server: record.server,
      protocolVersion: record.protocolVersion,
      client: record.clientInfo?.name ?? null,
    });
    return { ok: true, eventLogBytes: limits.eventLogBytes };
  }

  /**
   * Leases up to `want` request tokens from the tenant's bucket. Workers lease a
   * small batch and spend it locally, so the tenant object sees one call per batch,
   * not per request, and no object is shared between tenants.
   */
  async takeTokens(want: number): Promise<{ ok: true; granted: number; retryAfterMs: number; limit: number } | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    const limit = this.#limits(config).requestsPerSecond;
    if (!this.#bucket || this.#bucket.ratePerSecond !== limit) this.#bucket = new TokenBucket(limit, Date.now());
    const result = this.#bucket.take(Math.max(1, Math.min(want, limit)), Date.now());
    if (result.granted === 0) await this.#limitHit("requests", { limit });
    return { ok: true, ...result, limit };
  }

  async setLimits(limits: TenantLimits): Promise<{ ok: true; tenant: TenantConfig } | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    const tenant = { ...config, limits: { ...config.limits, ...limits } };
    this.ctx.storage.kv.put(CONFIG_KEY, tenant);
    await this.#audit("admin", "tenant.limits", tenant.id, { limits: tenant.limits });
    return { ok: true, tenant };
  }

  async #limitHit(kind: string, detail: Record<string, unknown>): Promise<void> {
    const now = Date.now();
    if (now - (this.#lastLimitAudit.get(kind) ?? 0) < LIMIT_AUDIT_INTERVAL_MS) return;
    this.#lastLimitAudit.set(kind, now);
    await this.#audit("platform", "limit.hit", kind, detail);
  }

  async sessionTouched(id: string, update: SessionUpdate): Promise<void> {
    if (!this.#config()) return;
    this.#sql.exec(
      "UPDATE sessions SET last_activity = ?, expires_at = ?, requests = ?, errors = ?, event_bytes = ? WHERE id = ?",
      update.lastActivity,
      update.expiresAt,
      update.requests,
      update.errors,
      update.eventBytes,
      id,
    );
  }

  /** Drops a session from the index, keeping its counters in the tenant's totals. */
  async sessionClosed(id: string, reason: "deleted" | "expired" | "terminated", final?: SessionUpdate): Promise<void> {
    if (!this.#config()) return;
    const row = this.#sql
      .exec<{ key_id: string | null; requests: number; errors: number }>("SELECT key_id, requests, errors FROM sessions WHERE id = ?", id)
      .toArray()[0];
    if (!row) return;
    const stats = this.#stats();
    stats.closedRequests += final?.requests ?? row.requests;
    stats.closedErrors += final?.errors ?? row.errors;
    this.ctx.storage.kv.put(STATS_KEY, stats);
    this.#sql.exec("DELETE FROM sessions WHERE id = ?", id);
    await this.#audit(reason === "deleted" ? actorOf(row.key_id) : reason === "terminated" ? "admin" : "platform", "session.ended", id, { reason });
  }

  async recordAlarm(lagMs: number, ok: boolean): Promise<void> {
    if (!this.#config()) return;
    const stats = this.#stats();
    stats.alarms++;
    if (!ok) stats.alarmFailures++;
    stats.alarmLagMsMax = Math.max(stats.alarmLagMsMax, lagMs);
    stats.alarmLagMsTotal += lagMs;
    this.ctx.storage.kv.put(STATS_KEY, stats);
  }

  async stats(): Promise<TenantStats | null> {
    if (!this.#config()) return null;
    const stats = this.#stats();
    const rows = this.#sql
      .exec<{ server: string; n: number; requests: number; errors: number; bytes: number }>(
        "SELECT server, count(*) AS n, sum(requests) AS requests, sum(errors) AS errors, sum(event_bytes) AS bytes FROM sessions GROUP BY server",
      )
      .toArray();
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((t, r) => t + (f(r) ?? 0), 0);
    return {
      sessions: sum((r) => r.n),
      sessionsByServer: Object.fromEntries(rows.map((r) => [r.server, r.n])),
      requests: stats.closedRequests + sum((r) => r.requests),
      errors: stats.closedErrors + sum((r) => r.errors),
      eventLogBytes: sum((r) => r.bytes),
      alarms: stats.alarms,
      alarmFailures: stats.alarmFailures,
      alarmLagMsMax: stats.alarmLagMsMax,
      alarmLagMsAvg: stats.alarms ? Math.round(stats.alarmLagMsTotal / stats.alarms) : 0,
    };
  }

  #stats(): StatsRecord {
    return { ...EMPTY_STATS, ...this.ctx.storage.kv.get<StatsRecord>(STATS_KEY) };
  }

  // --- audit log -----------------------------------------------------------------

  async auditPage(afterSeq: number, limit: number): Promise<{ ok: true; entries: AuditEntry[] } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, entries: this.#auditRows("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, clampLimit(limit)) };
  }

  async verifyAudit(): Promise<{ ok: true; verdict: ChainVerdict } | Missing> {
    if (!this.#config()) return MISSING;
    await this.#auditTail;
    return { ok: true, verdict: await verifyAuditChain(this.#auditRows("SELECT * FROM audit ORDER BY seq")) };
  }

  #audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    const append = async () => {
      const last = this.#sql.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").toArray()[0];
      const fields = { seq: (last?.seq ?? 0) + 1, at: Date.now(), actor, action, target, detail: JSON.stringify(detail) };
      const prevHash = last?.hash ?? AUDIT_GENESIS;
      const hash = await auditHash(prevHash, fields);
      this.#sql.exec(
        "INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        fields.seq,
        fields.at,
        actor,
        action,
        target,
        fields.detail,
        prevHash,
        hash,
      );
    };
    const next = this.#auditTail.then(append, append);
    this.#auditTail = next.catch(() => {});
    return next;
  }

  #auditRows(query: string, ...bindings: unknown[]): AuditEntry[] {
    return this.#sql
      .exec<{ seq: number; at: number; actor: string; action: string; target: string; detail: string; prev_hash: string; hash: string }>(
        query,
        ...bindings,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, detail: r.detail, prevHash: r.prev_hash, hash: r.hash }));
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

  async dataPut(server: string, collection: string, id: string, valueJson: string): Promise<DataPutResult> {
    const config = this.#config();
    if (!config) return MISSING;
    const limit = this.#limits(config).toolDataBytes;
    const old = this.#sql
      .exec<{ n: number }>("SELECT length(CAST(value AS BLOB)) AS n FROM tool_data WHERE server = ? AND collection = ? AND id = ?", server, collection, id)
      .toArray()[0]?.n ?? 0;
    const size = new TextEncoder().encode(valueJson).byteLength;
    const used = this.#toolDataBytes();
    if (used - old + size > limit) {
      await this.#limitHit("tool-data", { limit, used });
      return { ok: false, reason: "quota", limit, used };
    }
    this.ctx.storage.kv.put(TOOL_DATA_BYTES_KEY, used - old + size);
    this.#sql.exec(
      "INSERT OR REPLACE INTO tool_data (server, collection, id, value, updated_at) VALUES (?, ?, ?, ?, ?)",
      server,
      collection,
      id,
      valueJson,
      Date.now(),
    );
    return { ok: true };
  }

  /** Bytes of tool data held, kept as a running total (computed once if missing). */
  #toolDataBytes(): number {
    let used = this.ctx.storage.kv.get<number>(TOOL_DATA_BYTES_KEY);
    if (used === undefined) {
      used = this.#sql.exec<{ n: number | null }>("SELECT sum(length(CAST(value AS BLOB))) AS n FROM tool_data").one().n ?? 0;
      this.ctx.storage.kv.put(TOOL_DATA_BYTES_KEY, used);
    }
    return used;
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
    const row = this.#sql
      .exec<{ n: number }>(
        "DELETE FROM tool_data WHERE server = ? AND collection = ? AND id = ? RETURNING length(CAST(value AS BLOB)) AS n",
        server,
        collection,
        id,
      )
      .toArray()[0];
    if (!row) return false;
    this.ctx.storage.kv.put(TOOL_DATA_BYTES_KEY, Math.max(0, this.#toolDataBytes() - row.n));
    return true;
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

const actorOf = (keyId: string | null) => (keyId ? `key:${keyId}` : "anonymous");

const clampLimit = (limit: number) => Math.max(1, Math.min(500, Math.trunc(limit) || 1));
