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
import {
  LEGACY_INCARNATION,
  TokenBucket,
  newIncarnation,
  platformConfig,
  randomToken,
  sessionObjectName,
  sha256Hex,
  type AuditEntry,
  type SealedSecret,
} from "@smcp/runtime";
import type { StoredRecord } from "@smcp/servers";
import type { Env } from "./env";
import { effectiveLimits, type EffectiveLimits } from "./limits";
import { AuditLog, actorOf } from "./tenant/audit-log";
import { AuditRetention, type AuditVerdict } from "./tenant/audit-retention";
import { AuthFailureTally, isAuthFailureReason, type AuthFailureReason } from "./tenant/auth-failures";
import { SessionIndex } from "./tenant/session-index";
import { ToolData, type PutOutcome } from "./tenant/tool-data";
import type {
  AuthDecision,
  DataPutResult,
  KeyInfo,
  SessionAdmission,
  SessionEndReason,
  SessionRecord,
  SessionReportAck,
  SessionUpdate,
  TenantConfig,
  TenantLimits,
  TenantStats,
} from "./tenant/types";
import { TENANT_MIGRATIONS } from "./tenant-schema";
import { migrate } from "./storage/migrations";

export type {
  AuthDecision,
  BearerCheck,
  BearerDecision,
  DataPutResult,
  KeyInfo,
  SessionAdmission,
  SessionEndReason,
  SessionRecord,
  SessionReportAck,
  SessionUpdate,
  TenantAuthMode,
  TenantConfig,
  TenantLimits,
  TenantStats,
} from "./tenant/types";
import { GrantStore, type AccessCheck, type CodeGrantInit, type CodeRedemption, type TokenRefresh } from "./oauth/grant-store";
import { DeploymentStore, type CallReport, type NewBundle } from "./sandbox/deployment-store";
import { SecretStore } from "./tenant/secrets";

/** Index rows this long past their expiry are confirmed with their session object and swept if it is gone. */
const SWEEP_GRACE_MS = 60_000;
const SWEEP_BATCH = 8;
/** Longest client-supplied string kept in an audit detail. */
const AUDIT_DETAIL_MAX_CHARS = 256;
const clip = (text: string) => (text.length > AUDIT_DETAIL_MAX_CHARS ? text.slice(0, AUDIT_DETAIL_MAX_CHARS) : text);

/** At most one `limit.hit` audit entry per kind in this many ms, so a flood cannot flood the audit log. */
const LIMIT_AUDIT_INTERVAL_MS = 10_000;

type Missing = { ok: false; reason: "unknown-tenant" };
const MISSING: Missing = { ok: false, reason: "unknown-tenant" };

const CONFIG_KEY = "config";
/**
 * Present while the tenant is being deleted (see `beginDestroy`): the tenant answers
 * as unknown to everything but the deletion, which a repeat resumes from here.
 */
const DELETING_KEY = "deleting";

/** What ending a set of sessions did; ids of the sessions that could not be ended are listed. */
export interface SessionsEnded {
  sessionsEnded: number;
  sessionsFailed: string[];
}
export class TenantDO extends DurableObject<Env> {
  #auditLog: AuditLog | undefined;
  /** Rate state lives in memory: losing it on eviction only forgives one second of traffic. */
  #bucket: TokenBucket | undefined;
  #lastLimitAudit = new Map<string, number>();
  /** Failed authentications of the open window (tenant/auth-failures.ts). */
  #authFailures: AuthFailureTally | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Only a tenant that exists has a schema to upgrade: an unknown id must stay without storage.
    if (ctx.storage.kv.get(CONFIG_KEY)) migrate(ctx.storage, TENANT_MIGRATIONS);
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

  /** Counts a failed authentication; the tally writes one audit row per reason per interval. */
  #authFailed(reason: AuthFailureReason, count = 1): Promise<void> {
    return this.#failureTally().record(reason, count);
  }

  #failureTally(): AuthFailureTally {
    return (this.#authFailures ??= new AuthFailureTally({ storage: this.ctx.storage, audit: (...entry) => this.#audit(...entry) }));
  }

  /** The live tenant's config; undefined when there is none or it is being deleted. */
  #config(): TenantConfig | undefined {
    return this.ctx.storage.kv.get(DELETING_KEY) ? undefined : this.#storedConfig();
  }

  #storedConfig(): TenantConfig | undefined {
    const stored = this.ctx.storage.kv.get<TenantConfig>(CONFIG_KEY);
    return stored && { ...stored, incarnation: stored.incarnation ?? LEGACY_INCARNATION };
  }

  /** Whether a call made for `incarnation` may act on this tenant: not one for an earlier tenant of the same id. */
  #isCurrent(config: TenantConfig, incarnation: string): boolean {
    return incarnation === config.incarnation;
  }

  #currentConfig(incarnation: string): TenantConfig | undefined {
    const config = this.#config();
    return config && this.#isCurrent(config, incarnation) ? config : undefined;
  }

  // --- lifecycle -------------------------------------------------------------

  /**
   * Creates the tenant with a fresh incarnation. An existing tenant is answered with
   * its config, so the caller can tell a repeat of the same create from a conflict;
   * a tenant still being deleted must finish that first.
   */
  async create(
    init: Omit<TenantConfig, "createdAt" | "incarnation">,
  ): Promise<{ ok: true; tenant: TenantConfig } | { ok: false; reason: "exists"; tenant: TenantConfig } | { ok: false; reason: "deleting" }> {
    if (this.ctx.storage.kv.get(DELETING_KEY)) return { ok: false, reason: "deleting" };
    const existing = this.#config();
    if (existing) return { ok: false, reason: "exists", tenant: existing };
    const tenant: TenantConfig = { ...init, createdAt: Date.now(), incarnation: newIncarnation() };
    this.ctx.storage.transactionSync(() => {
      migrate(this.ctx.storage, TENANT_MIGRATIONS);
      this.ctx.storage.kv.put(CONFIG_KEY, tenant);
    });
    await this.#audit("admin", "tenant.created", tenant.id, { auth: tenant.auth, limits: tenant.limits });
    return { ok: true, tenant };
  }

  async info(): Promise<TenantConfig | null> {
    return this.#config() ?? null;
  }

  /**
   * Deleting a tenant spans objects (its sessions, the directory, then its own
   * storage), so it is a sequence a repeat can resume: this first step marks the
   * tenant as being deleted (from then on it admits nothing and answers as unknown)
   * and ends every indexed session; the index is kept until `finishDestroy`, so a
   * repeat ends again whatever is left. The caller removes the directory entry once
   * every session has ended, then calls `finishDestroy`.
   */
  async beginDestroy(): Promise<({ ok: true } & SessionsEnded) | Missing> {
    const config = this.#storedConfig();
    if (!config) return MISSING;
    if (!this.ctx.storage.kv.get(DELETING_KEY)) {
      this.ctx.storage.kv.put(DELETING_KEY, Date.now());
      await this.#audit("admin", "tenant.deleting", config.id, {});
    }
    return { ok: true, ...(await this.#endSessions(this.#sessions.all(), config)) };
  }

  /** The last step of a delete: every byte of the tenant goes. Only after `beginDestroy`. */
  async finishDestroy(): Promise<{ ok: true } | Missing | { ok: false; reason: "not-deleting" }> {
    if (!this.#storedConfig()) return MISSING;
    if (!this.ctx.storage.kv.get(DELETING_KEY)) return { ok: false, reason: "not-deleting" };
    await this.ctx.storage.deleteAll();
    this.#auditLog = undefined;
    this.#authFailures = undefined;
    return { ok: true };
  }

  // --- keys ------------------------------------------------------------------

  /** Mints a key, or stores `restore` (a key in the minted format the admin already holds). */
  async createKey(label: string, restore?: string): Promise<{ ok: true; key: string; info: KeyInfo } | Missing | { ok: false; reason: "key-exists" }> {
    if (!this.#config()) return MISSING;
    const info: KeyInfo = { id: `key_${randomToken(9)}`, label, createdAt: Date.now(), revokedAt: null };
    const key = restore ?? `smcp_sk_${randomToken(32)}`;
    const hash = await sha256Hex(key);
    if (this.#sql.exec("SELECT 1 FROM keys WHERE hash = ?", hash).toArray().length > 0) return { ok: false, reason: "key-exists" };
    this.#sql.exec("INSERT INTO keys (id, label, hash, created_at) VALUES (?, ?, ?, ?)", info.id, label, hash, info.createdAt);
    await this.#audit("admin", "key.created", info.id, { label, restored: restore !== undefined });
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

  /**
   * Revokes a key, then ends its open sessions, streams included; new requests fail
   * auth at once. The key is revoked whatever happens to the sessions, and the answer
   * says which of them could not be ended. Revoking a revoked key again is the re-drive:
   * it ends whatever sessions of the key are still indexed.
   */
  async revokeKey(id: string): Promise<({ ok: true; alreadyRevoked: boolean } & SessionsEnded) | Missing | { ok: false; reason: "unknown-key" }> {
    const config = this.#config();
    if (!config) return MISSING;
    const key = this.#sql.exec<{ revoked_at: number | null }>("SELECT revoked_at FROM keys WHERE id = ?", id).toArray()[0];
    if (!key) return { ok: false, reason: "unknown-key" };
    const alreadyRevoked = key.revoked_at !== null;
    if (!alreadyRevoked) {
      this.#sql.exec("UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id);
      await this.#audit("admin", "key.revoked", id, {});
    }
    const ended = await this.#endSessions(this.#sessions.ofKey(id), config);
    if (ended.sessionsFailed.length > 0) {
      await this.#audit("platform", "key.revoke-incomplete", id, { failed: ended.sessionsFailed.length, sessions: ended.sessionsFailed.slice(0, 20) });
    }
    return { ok: true, alreadyRevoked, ...ended };
  }

  /**
   * Decides whether a request may use `server`: the tenant exists, the server is
   * enabled, and the key (given as its SHA-256) is live. Lookup is by digest, so the
   * comparison is an indexed equality on a hash, never on the secret itself.
   * `malformed`: the Worker got a bearer that cannot be a key of this tenant and asks
   * only to learn the tenant's auth mode (it sends no digest).
   */
  async authorize(server: string, keyHash: string | null, malformed = false): Promise<AuthDecision> {
    const config = this.#config();
    if (!config) return { ok: false, reason: "unknown-tenant" };
    let keyId: string | null = null;
    if (config.auth === "key") {
      const row = keyHash
        ? this.#sql.exec<{ id: string }>("SELECT id FROM keys WHERE hash = ? AND revoked_at IS NULL", keyHash).toArray()[0]
        : undefined;
      if (!row) {
        await this.#authFailed(malformed ? "malformed-bearer" : keyHash ? "invalid-key" : "no-key");
        return { ok: false, reason: "invalid-key" };
      }
      keyId = row.id;
    }
    const enabled = this.#sql.exec("SELECT 1 FROM servers WHERE name = ?", server).toArray().length > 0;
    if (!enabled) return { ok: false, reason: "unknown-server" };
    return { ok: true, keyId, auth: config.auth, incarnation: config.incarnation };
  }

  /** Failed authentications a Worker's failed-auth limiter refused itself (mcp/failed-auth-limiter.ts), counted in. */
  async recordAuthFailures(reason: AuthFailureReason, count: number): Promise<void> {
    if (this.#config() && isAuthFailureReason(reason) && Number.isSafeInteger(count) && count > 0) await this.#authFailed(reason, count);
  }

  /** The alarm closes the open window of failed authentications (tenant/auth-failures.ts). */
  async alarm(): Promise<void> {
    if (this.#config()) await this.#failureTally().flush();
  }

  /**
   * Ends sessions now, streams included (credential revoked, tenant deleted). Each
   * session gets its own bounded attempt, so one that fails or does not answer
   * neither hides nor holds up the others; it stays in the index for a repeat. A
   * session object that holds no session any more has ended: its index row goes.
   */
  async #endSessions(sessions: { id: string; server: string }[], config: TenantConfig): Promise<SessionsEnded> {
    const timeoutMs = platformConfig(this.env).SMCP_SESSION_END_TIMEOUT_MS;
    const outcomes = await Promise.allSettled(
      sessions.map((s) =>
        withDeadline(
          this.env.SESSION.get(this.env.SESSION.idFromName(sessionObjectName(config.id, config.incarnation, s.server, s.id))).terminate(),
          timeoutMs,
        ),
      ),
    );
    const failed: string[] = [];
    outcomes.forEach((outcome, i) => {
      const session = sessions[i]!;
      if (outcome.status === "rejected") failed.push(session.id);
      else if (outcome.value === false) this.#sessions.remove(session.id);
    });
    return { sessionsEnded: sessions.length - failed.length, sessionsFailed: failed };
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
    const incarnation = this.#config()?.incarnation ?? LEGACY_INCARNATION;
    return this.#grants(async (g) => {
      const decision = await g.checkAccess(check);
      return decision.ok ? { ...decision, incarnation } : decision;
    });
  }

  async oauthRevoke(tokenHash: string, clientId: string) {
    return this.#grants((g) => g.revoke(tokenHash, clientId));
  }

  async oauthClientTrusted(clientId: string) {
    return this.#grants(async (g) => g.clientTrusted(clientId));
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
        authFailed: (reason) => this.#authFailed(reason),
        grantRevoked: async (grantId) => void (await this.#endSessions(this.#sessions.ofGrant(grantId), config)),
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

  /** The active version, for a caller that names the incarnation it serves: a stale one gets unknown-tenant. */
  async deploymentActive(server: string, incarnation: string) {
    const config = this.#config();
    if (!config || !this.#isCurrent(config, incarnation)) return MISSING;
    return this.#deployments((d) => {
      const active = d.active(server);
      return active && { ...active, secrets: new SecretStore(this.#sql).summary(server) };
    });
  }

  async deploymentView(server: string) {
    return this.#deployments((d) => d.view(server));
  }

  async deploymentSetEgress(server: string, allow: string[]) {
    return this.#deployments((d) => d.setEgress(server, allow));
  }

  /** Counts from an isolate of another incarnation (a tenant since deleted) are not this tenant's: dropped. */
  async deploymentReport(server: string, version: number, report: CallReport, incarnation: string) {
    const config = this.#config();
    if (!config || !this.#isCurrent(config, incarnation)) return MISSING;
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
      oldestLiveSession: (name) => this.#sql.exec<{ t: number | null }>("SELECT min(created_at) AS t FROM sessions WHERE server = ?", name).one().t,
      audit: (actor, action, target, detail) => this.#audit(actor, action, target, detail),
    });
    return { ok: true, value: await run(store) };
  }

  // --- deployed servers' secrets (the rules are in tenant/secrets.ts; sealed in the Worker) ---

  async secretPut(server: string, name: string, sealed: SealedSecret) {
    return this.#secretStore(async (s) => {
      const result = s.put(server, name, sealed);
      if (result.ok) await this.#audit("admin", "secret.set", server, { name, created: result.created });
      return result;
    });
  }

  async secretDelete(server: string, name: string) {
    return this.#secretStore(async (s) => {
      const result = s.delete(server, name);
      if (result.ok) await this.#audit("admin", "secret.deleted", server, { name });
      return result;
    });
  }

  async secretList(server: string) {
    return this.#secretStore((s) => s.list(server));
  }

  /** The sealed values a sandbox of `server` is loaded with, for a caller that names the incarnation it serves. */
  async secretsSealed(server: string, incarnation: string) {
    if (!this.#currentConfig(incarnation)) return MISSING;
    return this.#secretStore((s) => s.sealed(server));
  }

  async secretsStale(currentKeyId: string, after: { server: string; name: string } | null, limit: number) {
    return this.#secretStore((s) => s.stale(currentKeyId, after, Math.max(1, Math.min(100, Math.trunc(limit) || 1))));
  }

  /** Values sealed again under the current key (a re-key call by an admin, or the platform as it loads a sandbox). */
  async secretsReseal(entries: { server: string; name: string; from: SealedSecret; to: SealedSecret }[], actor: "admin" | "platform") {
    return this.#secretStore(async (s) => {
      const replaced = s.reseal(entries.slice(0, 100));
      if (replaced > 0) await this.#audit(actor, "secrets.rekeyed", "*", { count: replaced });
      return replaced;
    });
  }

  async #secretStore<T>(run: (store: SecretStore) => T): Promise<{ ok: true; value: Awaited<T> } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, value: await run(new SecretStore(this.#sql)) };
  }

  // --- session index -----------------------------------------------------------

  /**
   * Admits a new session and indexes it, in one step. A session of another incarnation
   * (authenticated by a decision cached before the tenant was deleted and created again)
   * is refused as unknown. Then the index is swept of rows past their expiry whose
   * session object confirms it is gone; then, with no await between the checks and the
   * insert: the key or OAuth grant that opens the session is still live (the Worker's
   * auth cache may be seconds stale), the server is enabled, and the tenant is under its
   * session limit. A refusal stores nothing.
   */
  async sessionOpened(record: SessionRecord, incarnation: string): Promise<SessionAdmission> {
    const current = this.#config();
    if (!current || !this.#isCurrent(current, incarnation)) return { ok: false, reason: "unknown-tenant" };
    await this.#sweepSessions();
    const config = this.#config();
    if (!config || !this.#isCurrent(config, incarnation)) return { ok: false, reason: "unknown-tenant" };
    if (!this.#credentialLive(config, record)) return { ok: false, reason: "invalid-credential" };
    if (this.#sql.exec("SELECT 1 FROM servers WHERE name = ?", record.server).toArray().length === 0) return { ok: false, reason: "unknown-server" };
    const limits = this.#limits(config);
    if (this.#sessions.count() >= limits.maxSessions) {
      await this.#limitHit("sessions", { limit: limits.maxSessions });
      return { ok: false, reason: "session-limit", limit: limits.maxSessions };
    }
    this.#sessions.add(record);
    await this.#audit(actorOf(record.keyId), "session.created", record.id, {
      server: record.server,
      protocolVersion: clip(record.protocolVersion),
      client: typeof record.clientInfo?.name === "string" ? clip(record.clientInfo.name) : null,
    });
    return { ok: true, eventLogBytes: limits.eventLogBytes };
  }

  #credentialLive(config: TenantConfig, record: SessionRecord): boolean {
    if (config.auth === "none") return true;
    if (record.keyId === null) return false;
    if (this.#sql.exec("SELECT 1 FROM keys WHERE id = ? AND revoked_at IS NULL", record.keyId).toArray().length === 0) return false;
    if (!record.grantId) return true;
    // The grant tables exist only once the tenant has used OAuth (oauth/grant-store.ts).
    const hasGrants = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oauth_grants'").toArray().length > 0;
    return (
      hasGrants &&
      this.#sql.exec("SELECT 1 FROM oauth_grants WHERE id = ? AND expires_at > ?", record.grantId, Date.now()).toArray().length > 0
    );
  }

  /**
   * Drops index rows past their expiry whose session object says it holds no session
   * (it ended without reaching the tenant). A session that is alive extends its row; one
   * that cannot be reached keeps it for the next sweep. Bounded per call.
   */
  async #sweepSessions(): Promise<void> {
    const config = this.#config()!;
    const candidates = this.#sessions.expired(Date.now() - SWEEP_GRACE_MS, SWEEP_BATCH);
    await Promise.all(
      candidates.map(async (s) => {
        const probe = await this.env.SESSION.get(this.env.SESSION.idFromName(sessionObjectName(config.id, config.incarnation, s.server, s.id)))
          .probe()
          .catch(() => null);
        if (probe === null) return;
        if (probe.alive) return this.#sessions.extend(s.id, probe.expiresAt);
        if (this.#sessions.remove(s.id)) await this.#audit("platform", "session.ended", s.id, { reason: "swept" });
      }),
    );
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

  /** A session's periodic report, applied once per `update.seq`; the ack tells the session its increments arrived. */
  async sessionTouched(id: string, update: SessionUpdate): Promise<SessionReportAck> {
    if (!this.#config() || !this.#sessions.touch(id, update)) return { ok: false, reason: "unknown-session" };
    return { ok: true, seq: update.seq };
  }

  /**
   * Drops a session from the index, keeping its counters (the final report's, when it
   * is newer than the last applied) in the tenant's totals. Idempotent: a session
   * re-driving its end after a lost answer finds its row gone and changes nothing.
   */
  async sessionClosed(id: string, reason: SessionEndReason, final?: SessionUpdate): Promise<{ ok: true }> {
    if (!this.#config()) return { ok: true };
    const removed = this.#sessions.remove(id, final);
    if (!removed) return { ok: true };
    const actor = reason === "deleted" ? actorOf(removed.keyId) : reason === "terminated" ? "admin" : "platform";
    await this.#audit(actor, "session.ended", id, { reason });
    return { ok: true };
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

  async verifyAudit(from: "checkpoint" | "start" = "checkpoint"): Promise<{ ok: true; verdict: AuditVerdict } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, verdict: await this.#retention().verify(from) };
  }

  // --- audit retention (the rules are in tenant/audit-retention.ts) -----------------

  async auditCheckpoints() {
    if (!this.#config()) return MISSING;
    const retention = this.#retention();
    return { ok: true as const, checkpoints: retention.checkpoints(), retention: retention.state() };
  }

  async auditCheckpoint() {
    if (!this.#config()) return MISSING;
    return this.#retention().checkpoint();
  }

  async auditExportPage(through: number, after: number, limit: number) {
    if (!this.#config()) return MISSING;
    return this.#retention().exportPage(through, after, limit);
  }

  async auditDrop(through: number) {
    if (!this.#config()) return MISSING;
    return this.#retention().drop(through);
  }

  #retention(): AuditRetention {
    this.#auditLog ??= new AuditLog(this.#sql);
    return new AuditRetention(this.ctx.storage, this.#auditLog);
  }

  // --- tool data (see tool-store.ts and tenant/tool-data.ts) ------------------------

  // Tool data is reached by sessions and sandboxes that name the incarnation they serve:
  // one authenticated before the tenant was deleted and created again reaches nothing.

  async dataPut(server: string, collection: string, id: string, valueJson: string, incarnation: string): Promise<DataPutResult> {
    const config = this.#currentConfig(incarnation);
    if (!config) return MISSING;
    const limits = this.#limits(config);
    const outcome: PutOutcome = this.#toolData.put(server, collection, id, valueJson, { bytes: limits.toolDataBytes, rows: limits.toolDataRows });
    if (!outcome.ok) await this.#limitHit(outcome.reason === "rows" ? "tool-data-rows" : "tool-data", { limit: outcome.limit, used: outcome.used });
    return outcome;
  }

  async dataGet(server: string, collection: string, id: string, incarnation: string): Promise<StoredRecord | null> {
    return this.#currentConfig(incarnation) ? this.#toolData.get(server, collection, id) : null;
  }

  async dataList(server: string, collection: string, limit: number, after: string, incarnation: string): Promise<StoredRecord[]> {
    return this.#currentConfig(incarnation) ? this.#toolData.list(server, collection, limit, after) : [];
  }

  async dataSearch(server: string, collection: string, text: string, limit: number, incarnation: string): Promise<StoredRecord[]> {
    return this.#currentConfig(incarnation) ? this.#toolData.search(server, collection, text, limit) : [];
  }

  async dataDelete(server: string, collection: string, id: string, incarnation: string): Promise<boolean> {
    return this.#currentConfig(incarnation) ? this.#toolData.delete(server, collection, id) : false;
  }
}

/** `promise`, or a rejection once `ms` have passed without an answer. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
