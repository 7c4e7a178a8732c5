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
 * chain that SQLite triggers keep append-only. The class stays thin: each concern's
 * rules live in a module of its own (tenant/, oauth/grant-store.ts,
 * sandbox/deployment-store.ts) and the methods here are the RPC surface.
 */
import { DurableObject } from "cloudflare:workers";
import { TokenBucket, platformConfig, randomToken, sessionObjectName, sha256Hex, type AuditEntry, type ChainVerdict } from "@smcp/runtime";
import type { StoredRecord } from "@smcp/servers";
import type { Env } from "./env";
import { effectiveLimits, type EffectiveLimits } from "./limits";
import { AuditLog, actorOf } from "./tenant/audit-log";
import { SessionIndex } from "./tenant/session-index";
import { ToolData, type PutOutcome } from "./tenant/tool-data";
import type {
  AuthDecision,
  DataPutResult,
  KeyInfo,
  SessionAdmission,
  SessionRecord,
  SessionUpdate,
  TenantConfig,
  TenantLimits,
  TenantStats,
} from "./tenant/types";
import { TENANT_SCHEMA, upgradeSchema } from "./tenant-schema";

export type {
  AuthDecision,
  DataPutResult,
  KeyInfo,
  SessionAdmission,
  SessionRecord,
  SessionUpdate,
  TenantAuthMode,
  TenantConfig,
  TenantLimits,
  TenantStats,
} from "./tenant/types";
import { GrantStore, type AccessCheck, type CodeGrantInit, type CodeRedemption, type TokenRefresh } from "./oauth/grant-store";
import { DeploymentStore, type CallReport, type NewBundle } from "./sandbox/deployment-store";

/** At most one `limit.hit` audit entry per kind in this many ms, so a flood cannot flood the audit log. */
const LIMIT_AUDIT_INTERVAL_MS = 10_000;

type Missing = { ok: false; reason: "unknown-tenant" };
const MISSING: Missing = { ok: false, reason: "unknown-tenant" };

const CONFIG_KEY = "config";

export class TenantDO extends DurableObject<Env> {
  #auditLog: AuditLog | undefined;
  /** Rate state lives in memory: losing it on eviction only forgives one second of traffic. */
  #bucket: TokenBucket | undefined;
  #lastLimitAudit = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    if (ctx.storage.kv.get(CONFIG_KEY)) upgradeSchema(ctx.storage.sql);
  }

  #limits(config: TenantConfig): EffectiveLimits {
    return effectiveLimits(config.limits, platformConfig(this.env));
  }
  get #sql() {
    return this.ctx.storage.sql;
  }

  get #sessions() {
    return new SessionIndex(this.ctx.storage);
  }

  get #toolData() {
    return new ToolData(this.ctx.storage);
  }

  /** One instance per object: it serialises appends. */
  #audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    this.#auditLog ??= new AuditLog(this.#sql);
    return this.#auditLog.append(actor, action, target, detail);
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
    const sessions = this.#sessions.all();
    await this.ctx.storage.deleteAll();
    this.#auditLog = undefined;
    return { ok: true, sessions };
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
    await this.#endSessions(this.#sessions.ofKey(id));
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

  /** Ends sessions now, streams included (credential revoked). */
  async #endSessions(sessions: { id: string; server: string }[]): Promise<void> {
    const tenant = this.#config()!.id;
    await Promise.all(
      sessions.map((s) => this.env.SESSION.get(this.env.SESSION.idFromName(sessionObjectName(tenant, s.server, s.id))).terminate()),
    );
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
        grantRevoked: (grantId) => this.#endSessions(this.#sessions.ofGrant(grantId)),
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
    if (this.#sessions.count() >= limits.maxSessions) {
      await this.#limitHit("sessions", { limit: limits.maxSessions });
      return { ok: false, reason: "session-limit", limit: limits.maxSessions };
    }
    this.#sessions.add(record);
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
    if (this.#config()) this.#sessions.touch(id, update);
  }

  /** Drops a session from the index, keeping its counters in the tenant's totals. */
  async sessionClosed(id: string, reason: "deleted" | "expired" | "terminated", final?: SessionUpdate): Promise<void> {
    if (!this.#config()) return;
    const removed = this.#sessions.remove(id, final);
    if (!removed) return;
    const actor = reason === "deleted" ? actorOf(removed.keyId) : reason === "terminated" ? "admin" : "platform";
    await this.#audit(actor, "session.ended", id, { reason });
  }

  async recordAlarm(lagMs: number, ok: boolean): Promise<void> {
    if (this.#config()) this.#sessions.recordAlarm(lagMs, ok);
  }

  async stats(): Promise<TenantStats | null> {
    return this.#config() ? this.#sessions.stats() : null;
  }

  async listSessions(): Promise<{ ok: true; sessions: SessionRecord[] } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, sessions: this.#sessions.list() };
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.#config() ? this.#sessions.get(id) : null;
  }

  // --- audit log -----------------------------------------------------------------

  async auditPage(afterSeq: number, limit: number): Promise<{ ok: true; entries: AuditEntry[] } | Missing> {
    if (!this.#config()) return MISSING;
    this.#auditLog ??= new AuditLog(this.#sql);
    return { ok: true, entries: this.#auditLog.page(afterSeq, Math.max(1, Math.min(500, Math.trunc(limit) || 1))) };
  }

  async verifyAudit(): Promise<{ ok: true; verdict: ChainVerdict } | Missing> {
    if (!this.#config()) return MISSING;
    this.#auditLog ??= new AuditLog(this.#sql);
    return { ok: true, verdict: await this.#auditLog.verify() };
  }

  // --- tool data (see tool-store.ts and tenant/tool-data.ts) ------------------------

  async dataPut(server: string, collection: string, id: string, valueJson: string): Promise<DataPutResult> {
    const config = this.#config();
    if (!config) return MISSING;
    const limits = this.#limits(config);
    const outcome: PutOutcome = this.#toolData.put(server, collection, id, valueJson, { bytes: limits.toolDataBytes, rows: limits.toolDataRows });
    if (!outcome.ok) await this.#limitHit(outcome.reason === "rows" ? "tool-data-rows" : "tool-data", { limit: outcome.limit, used: outcome.used });
    return outcome;
  }

  async dataGet(server: string, collection: string, id: string): Promise<StoredRecord | null> {
    return this.#config() ? this.#toolData.get(server, collection, id) : null;
  }

  async dataList(server: string, collection: string, limit: number, after: string): Promise<StoredRecord[]> {
    return this.#config() ? this.#toolData.list(server, collection, limit, after) : [];
  }

  async dataSearch(server: string, collection: string, text: string, limit: number): Promise<StoredRecord[]> {
    return this.#config() ? this.#toolData.search(server, collection, text, limit) : [];
  }

  async dataDelete(server: string, collection: string, id: string): Promise<boolean> {
    return this.#config() ? this.#toolData.delete(server, collection, id) : false;
  }
}
