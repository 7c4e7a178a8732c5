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
 * chain that SQLite triggers keep append-only. The class is a composition root: it
 * owns the storage, the config and the tenant's lifecycle, and each concern's rules
 * live in a module of its own (tenant/keys.ts, tenant/servers.ts, tenant/session-index.ts,
 * tenant/session-objects.ts, tenant/tool-data.ts, tenant/server-files.ts, tenant/audit-*.ts, tenant/limit-audit.ts,
 * oauth/grant-store.ts, sandbox/deployment-store.ts); the methods here are the RPC surface.
 */
import { DurableObject } from "cloudflare:workers";
import { LEGACY_INCARNATION, TokenBucket, newIncarnation, platformConfig, type AuditEntry, type SealedSecret } from "@smcp/runtime";
import type { StoredRecord } from "@smcp/servers";
import type { Env } from "./env";
import { effectiveLimits, type EffectiveLimits } from "./limits";
import { AuditLog, sessionActorOf } from "./tenant/audit-log";
import { PLATFORM_ADMIN_ACTOR, actAsAdminKey, resolveAdminActor } from "./tenant/acting-admin";
import { AdminKeys } from "./tenant/admin-keys";
import { AuditRetention, type AuditVerdict } from "./tenant/audit-retention";
import { AuthFailureTally, isAuthFailureReason, type AuthFailureReason } from "./tenant/auth-failures";
import { TenantKeys } from "./tenant/keys";
import { LimitAudit } from "./tenant/limit-audit";
import { SessionIndex } from "./tenant/session-index";
import { SessionObjects, type SessionsEnded } from "./tenant/session-objects";
import { TenantServers, type EnabledServer } from "./tenant/servers";
import { ToolData, type PutOutcome } from "./tenant/tool-data";
import { FileError, ServerFiles, type FileAnswer, type FileCall } from "./tenant/server-files";
import type {
  AuthDecision,
  DataPutResult,
  KeyInfo,
  SessionAdmission,
  SessionEndCause,
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

import { GrantStore, isGrantLive, personActor, type AccessCheck, type CodeGrantInit, type CodeRedemption, type TokenRefresh } from "./oauth/grant-store";
import { consumeNonce } from "./tenant/sso-nonces";
import { DeploymentStore, type CallReport, type ConsoleLine, type NewBundle } from "./sandbox/deployment-store";
import { SecretStore, type SecretsSummary } from "./tenant/secrets";
import type { UpstreamConfig } from "./gateway/upstream-config";
import { probeUpstream, type ProbeResult } from "./gateway/health-probe";
import { upstreamHeaders } from "./gateway/serving";
import { UpstreamSetupError } from "./gateway/relay";
import { openSecrets } from "./sandbox/secrets-env";
import { UpstreamHealth, probeSchedule, type UpstreamHealthSummary, type UpstreamHealthView } from "./tenant/upstream-health";
import { policySummary, type ToolPolicy } from "./policy/tool-policy";
import { identitySummary, type StoredIdentity } from "./tenant/identity";
import { MetricsRollup } from "./tenant/metrics-rollup";
import { MAX_BATCH, type ReportBatch, type ReportBatchAck } from "./tenant/report-batch";
import { MetricsRecorder, type IsolateFlush, type MetricsSnapshot } from "./tenant/metrics";
import type { SeriesRange } from "./metrics/series";

/** Longest client-supplied string kept in an audit detail. */
const AUDIT_DETAIL_MAX_CHARS = 256;
const clip = (text: string) => (text.length > AUDIT_DETAIL_MAX_CHARS ? text.slice(0, AUDIT_DETAIL_MAX_CHARS) : text);

type Missing = { ok: false; reason: "unknown-tenant" };
const upstreamKey = (server: string) => `upstream:${server}`;
const policyKey = (server: string) => `policy:${server}`;
const IDENTITY_KEY = "identity";
/** What purging a server removed (`purgeServer`). */
export interface PurgedServer {
  files: number;
  toolData: number;
  secrets: number;
  versions: number;
}
const MISSING: Missing = { ok: false, reason: "unknown-tenant" };
/** Upstream probes one alarm run starts at most (in parallel); the rest are due again at once. */
const MAX_PROBES_PER_ALARM = 10;

/** Methods a tenant admin key may never have run (`adminKeyCall`): the platform operator's. */
const PLATFORM_ONLY_METHODS = new Set(["constructor", "create", "beginDestroy", "finishDestroy", "setLimits", "auditDrop", "alarm", "fetch", "adminKeyCall"]);
/** Sessions being ended by a tenant admin key, remembered for their `session.ended` rows; at most this many. */
const MAX_NOTED_TERMINATIONS = 1000;

const CONFIG_KEY = "config";
/**
 * Present while the tenant is being deleted (see `beginDestroy`): the tenant answers
 * as unknown to everything but the deletion, which a repeat resumes from here.
 */
const DELETING_KEY = "deleting";

/** Freezes `value` and everything it holds: the memoised config is shared by every call of the object. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export class TenantDO extends DurableObject<Env> {
  #auditLog: AuditLog | undefined;
  /** Rate state lives in memory: losing it on eviction only forgives one second of traffic. */
  #bucket: TokenBucket | undefined;
  /** `limit.hit` entries, at most one per kind per interval (tenant/limit-audit.ts). */
  #limitAudit = new LimitAudit((...entry) => this.#audit(...entry));
  /** Failed authentications of the open window (tenant/auth-failures.ts). */
  #authFailures: AuthFailureTally | undefined;
  /** What `#configState` read; undefined until read and after every write of it. */
  #configMemo: { stored: TenantConfig | undefined; deleting: boolean } | undefined;

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

  /** One index per instance: it keeps the bound that lets most admissions skip the sweep's read. */
  #sessionIndex: SessionIndex | undefined;

  get #sessions() {
    return (this.#sessionIndex ??= new SessionIndex(this.ctx.storage));
  }

  get #toolData() {
    return new ToolData(this.ctx.storage);
  }

  /** The keys of the tenant `config`, whose sessions a revocation ends. */
  #keys(config: TenantConfig): TenantKeys {
    return new TenantKeys({
      sql: this.#sql,
      audit: (...entry) => this.#audit(...entry),
      endSessionsOfKey: (id) => this.#endSessions(this.#sessions.ofKey(id), config, { actor: PLATFORM_ADMIN_ACTOR, cause: `key ${id} revoked` }),
    });
  }

  get #servers() {
    return new TenantServers({ sql: this.#sql, audit: (...entry) => this.#audit(...entry) });
  }

  /** One instance per object: it serialises appends. */
  get #log(): AuditLog {
    return (this.#auditLog ??= new AuditLog(this.#sql));
  }

  #audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    return this.#log.append(actor, action, target, detail);
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
    return this.#configState().deleting ? undefined : this.#configState().stored;
  }

  #storedConfig(): TenantConfig | undefined {
    return this.#configState().stored;
  }

  /**
   * The config and the deleting mark as storage holds them, read once per object: every
   * call (each tool-data write, each key check) asks, and only this object writes them,
   * through `#forgetConfig`. Frozen, since callers share it.
   */
  #configState(): { stored: TenantConfig | undefined; deleting: boolean } {
    if (this.#configMemo) return this.#configMemo;
    const stored = this.ctx.storage.kv.get<TenantConfig>(CONFIG_KEY);
    const config = stored && deepFreeze({ ...stored, incarnation: stored.incarnation ?? LEGACY_INCARNATION });
    return (this.#configMemo = { stored: config, deleting: this.ctx.storage.kv.get(DELETING_KEY) !== undefined });
  }

  /** After a write of the config or the deleting mark (or a rolled-back one): the next read goes to storage. */
  #forgetConfig(): void {
    this.#configMemo = undefined;
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
    try {
      this.ctx.storage.transactionSync(() => {
        migrate(this.ctx.storage, TENANT_MIGRATIONS);
        this.ctx.storage.kv.put(CONFIG_KEY, tenant);
      });
    } finally {
      this.#forgetConfig();
    }
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
      this.#forgetConfig();
      await this.#audit("admin", "tenant.deleting", config.id, {});
    }
    return { ok: true, ...(await this.#endSessions(this.#sessions.all(), config, { actor: "admin", cause: "tenant deleted" })) };
  }

  /** The last step of a delete: every byte of the tenant goes. Only after `beginDestroy`. */
  async finishDestroy(): Promise<{ ok: true } | Missing | { ok: false; reason: "not-deleting" }> {
    if (!this.#storedConfig()) return MISSING;
    if (!this.ctx.storage.kv.get(DELETING_KEY)) return { ok: false, reason: "not-deleting" };
    try {
      await this.ctx.storage.deleteAll();
    } finally {
      this.#forgetConfig();
    }
    this.#auditLog = undefined;
    this.#authFailures = undefined;
    return { ok: true };
  }

  // --- keys ------------------------------------------------------------------

  /** Mints a key, or stores `restore` (a key in the minted format the admin already holds). */
  async createKey(label: string, restore?: string): Promise<{ ok: true; key: string; info: KeyInfo } | Missing | { ok: false; reason: "key-exists" }> {
    const config = this.#config();
    if (!config) return MISSING;
    return this.#keys(config).create(label, restore);
  }

  async listKeys(): Promise<{ ok: true; keys: KeyInfo[] } | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    return { ok: true, keys: this.#keys(config).list() };
  }

  /** Revokes a key, then ends its open sessions; a repeat re-drives the end (tenant/keys.ts). */
  async revokeKey(id: string): Promise<({ ok: true; alreadyRevoked: boolean } & SessionsEnded) | Missing | { ok: false; reason: "unknown-key" }> {
    const config = this.#config();
    if (!config) return MISSING;
    return this.#keys(config).revoke(id);
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
      keyId = keyHash ? this.#keys(config).liveIdOf(keyHash) : null;
      if (keyId === null) {
        await this.#authFailed(malformed ? "malformed-bearer" : keyHash ? "invalid-key" : "no-key");
        return { ok: false, reason: "invalid-key" };
      }
    }
    if (!this.#servers.isEnabled(server)) return { ok: false, reason: "unknown-server" };
    return { ok: true, keyId, auth: config.auth, incarnation: config.incarnation };
  }

  /** Failed authentications a Worker's failed-auth limiter refused itself (mcp/failed-auth-limiter.ts), counted in. */
  async recordAuthFailures(reason: AuthFailureReason, count: number): Promise<void> {
    if (this.#config() && isAuthFailureReason(reason) && Number.isSafeInteger(count) && count > 0) await this.#authFailed(reason, count);
  }

  /**
   * The alarm serves every concern that arms it, each re-arming for its own next time
   * (only ever earlier than what is armed): it closes the open window of failed
   * authentications (tenant/auth-failures.ts) and probes the upstreams that are due
   * (tenant/upstream-health.ts).
   */
  async alarm(): Promise<void> {
    if (!this.#config()) return;
    try {
      await this.#failureTally().flush();
    } finally {
      try {
        await this.#probeDueUpstreams();
      } finally {
        await this.#metrics.pruneIfDue();
      }
    }
  }

  get #metrics(): MetricsRecorder {
    return new MetricsRecorder({
      storage: this.ctx.storage,
      sessions: this.#sessions,
      serverEnabled: (name) => this.#servers.isEnabled(name),
      upstreams: () => this.#upstreamHealth.reachability(),
      instanceServers: () => this.#sql.exec<{ server: string }>("SELECT server FROM deployments WHERE status = 'active' AND kind = 'sdk'").toArray().map((r) => r.server),
    });
  }

  // --- metrics (tenant/metrics.ts; the rollups: tenant/metrics-rollup.ts) -------------

  /** An isolate's batch of stateless-lane and Worker-level counts (metrics/isolate-sink.ts); another incarnation's are dropped. */
  async metricsFlush(flush: IsolateFlush, incarnation: string): Promise<{ ok: true } | Missing> {
    if (!this.#currentConfig(incarnation)) return MISSING;
    await this.#metrics.foldIsolate(flush);
    return { ok: true };
  }

  /** Totals and gauges for the Prometheus exposition, at most `maxSeries` series. */
  async metricsSnapshot(maxSeries: number): Promise<{ ok: true; value: MetricsSnapshot } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, value: this.#metrics.snapshot(maxSeries) };
  }

  /** A server's series for the dashboard's charts (metrics/series.ts). */
  async metricsSeries(server: string, range: SeriesRange, now = Date.now()) {
    if (!this.#config()) return MISSING;
    return { ok: true as const, value: this.#metrics.series(server, range, now) };
  }

  /** A server's tools/calls and failed ones in the last 24 hours (the servers' admin view). */
  async metricsRecentCalls(server: string) {
    if (!this.#config()) return MISSING;
    return { ok: true as const, value: this.#metrics.recentCalls(server) };
  }

  /** Ends `sessions` now, each with its own bounded attempt (tenant/session-objects.ts). */
  #endSessions(sessions: { id: string; server: string }[], config: TenantConfig, cause: SessionEndCause): Promise<SessionsEnded> {
    for (const s of sessions) this.sessionTerminating(s.id);
    return this.#sessionObjects(config).end(sessions, cause);
  }

  #sessionObjects(config: TenantConfig): SessionObjects {
    return new SessionObjects({ env: this.env, config, index: this.#sessions, audit: (...entry) => this.#audit(...entry) });
  }

  // --- tenant admin keys (rules: tenant/admin-keys.ts; what they may do: admin/tenant-scope.ts) ---

  /** Session id -> the admin key ending it, until the session reports its end (`sessionClosed`). */
  #terminators = new Map<string, string>();

  get #adminKeys() {
    return new AdminKeys(this.#sql);
  }

  /** Stores a new admin key by its digest (the Worker minted it and shows it once). */
  async adminKeyCreate(label: string, hash: string) {
    if (!this.#config()) return MISSING;
    const created = this.#adminKeys.create(label, hash);
    if (created.ok) await this.#audit(PLATFORM_ADMIN_ACTOR, "admin-key.created", created.info.id, { label });
    return created;
  }

  async adminKeyList() {
    if (!this.#config()) return MISSING;
    return { ok: true as const, keys: this.#adminKeys.list() };
  }

  async adminKeyRevoke(id: string) {
    if (!this.#config()) return MISSING;
    const revoked = this.#adminKeys.revoke(id);
    if (revoked.ok && !revoked.alreadyRevoked) await this.#audit(PLATFORM_ADMIN_ACTOR, "admin-key.revoked", id, {});
    return revoked;
  }

  /**
   * Authenticates an admin key by its digest. An unknown tenant answers without a
   * write; a failure on a tenant that exists is one count of the aggregated tally.
   */
  async adminKeyCheck(hash: string): Promise<{ ok: true; keyId: string; incarnation: string } | { ok: false; reason: "unknown-tenant" | "invalid-admin-key" }> {
    const config = this.#config();
    if (!config) return MISSING;
    const keyId = this.#adminKeys.liveByHash(hash);
    if (keyId === null) {
      await this.#authFailed("invalid-admin-key");
      return { ok: false, reason: "invalid-admin-key" };
    }
    return { ok: true, keyId, incarnation: config.incarnation };
  }

  /**
   * Every call the admin API makes for a tenant admin key comes through here: the key
   * is checked live in this very step (a revocation takes effect at once, whatever the
   * Worker cached), the tenant must be the incarnation it was issued by, and the method
   * runs with its audit rows naming the key (tenant/acting-admin.ts). Platform-only
   * methods are refused here too, behind the router's own refusal.
   */
  async adminKeyCall(
    caller: { keyId: string; incarnation: string },
    method: string,
    args: unknown[],
  ): Promise<{ ok: true; value: unknown } | { ok: false; reason: "invalid-admin-key" | "platform-only" }> {
    const config = this.#config();
    if (!config || !this.#isCurrent(config, caller.incarnation) || !this.#adminKeys.isLive(caller.keyId)) return { ok: false, reason: "invalid-admin-key" };
    // RPC methods of this class (or a base it gains), never the runtime's handlers or Object's.
    const isRpcMethod = method in TenantDO.prototype && !(method in DurableObject.prototype) && !(method in Object.prototype);
    const target = isRpcMethod ? (this as unknown as Record<string, unknown>)[method] : undefined;
    if (typeof target !== "function" || PLATFORM_ONLY_METHODS.has(method)) return { ok: false, reason: "platform-only" };
    return { ok: true, value: await actAsAdminKey(caller.keyId, () => (target as (...a: unknown[]) => unknown).apply(this, args)) };
  }

  /** Notes who is ending a session, for its `session.ended` row (the session reports the end in a call of its own). */
  sessionTerminating(id: string): void {
    const actor = resolveAdminActor(PLATFORM_ADMIN_ACTOR);
    if (actor === PLATFORM_ADMIN_ACTOR) return;
    if (this.#terminators.size >= MAX_NOTED_TERMINATIONS) this.#terminators.delete(this.#terminators.keys().next().value!);
    this.#terminators.set(id, actor);
  }

  #terminator(id: string): string {
    const actor = this.#terminators.get(id) ?? PLATFORM_ADMIN_ACTOR;
    this.#terminators.delete(id);
    return actor;
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

  /** The live grants, a page at a time (admin/grants.ts). */
  async oauthListGrants(after: number, limit: number) {
    return this.#grants(async (g) => ({ ok: true as const, grants: g.listGrants(after, limit) }));
  }

  /**
   * An admin revokes a grant: its tokens and codes at once, then its open sessions and
   * streams end. A repeat re-drives the end of whatever sessions are still indexed.
   */
  async oauthRevokeGrant(grantId: string): Promise<({ ok: true; alreadyRevoked: boolean } & SessionsEnded) | Missing | { ok: false; reason: "unknown-grant" }> {
    const config = this.#config();
    if (!config) return MISSING;
    const revoked = await this.#grants((g) => g.revokeGrantById(grantId));
    if (!revoked.ok) return revoked;
    const ended = await this.#endSessions(this.#sessions.ofGrant(grantId), config, { actor: PLATFORM_ADMIN_ACTOR, cause: `grant ${grantId} revoked by an admin` });
    if (ended.sessionsFailed.length > 0) {
      await this.#audit("platform", "oauth.revoke-incomplete", grantId, { failed: ended.sessionsFailed.length, sessions: ended.sessionsFailed.slice(0, 20) });
    }
    return { ...revoked, ...ended };
  }

  /**
   * A person signed in at the tenant's identity provider (sso/callback.ts verified the ID
   * token and applied the allow rule): records the grant with their subject, in one step
   * with the checks that the provider is still the one the sign-in started with (a change
   * meanwhile refuses it), the server is enabled, and the nonce was never used before.
   */
  async ssoIssueCode(
    init: CodeGrantInit,
    signIn: { nonceHash: string; nonceExpiresAt: number; issuer: string; providerClientId: string; identityUpdatedAt: number },
  ): Promise<{ ok: true; grantId: string } | Missing | { ok: false; reason: "identity-changed" | "unknown-server" | "nonce-replayed" | "busy" }> {
    if (!this.#config()) return MISSING;
    const identity = this.ctx.storage.kv.get<StoredIdentity>(IDENTITY_KEY);
    if (!identity || identity.updatedAt !== signIn.identityUpdatedAt || identity.issuer !== signIn.issuer || identity.clientId !== signIn.providerClientId) {
      return { ok: false, reason: "identity-changed" };
    }
    if (!this.#servers.isEnabled(init.server)) return { ok: false, reason: "unknown-server" };
    const nonce = consumeNonce(this.#sql, signIn.nonceHash, signIn.nonceExpiresAt);
    if (nonce === "replayed") {
      await this.#authFailed("sso-nonce-replayed");
      return { ok: false, reason: "nonce-replayed" };
    }
    if (nonce === "full") return { ok: false, reason: "busy" };
    return this.#grants((g) => g.issueCode(init));
  }

  /**
   * An admin revokes every grant a person signed in for: their tokens and codes at once,
   * then the open sessions and streams of each. A repeat re-drives the sessions still indexed.
   */
  async oauthRevokeSubject(subject: string): Promise<({ ok: true; revoked: string[]; alreadyRevoked: string[] } & SessionsEnded) | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    const result = await this.#grants((g) => g.revokeGrantsOfSubject(subject));
    if ("ok" in result) return result;
    const sessions = [...result.revoked, ...result.alreadyRevoked].flatMap((id) => this.#sessions.ofGrant(id));
    const ended = await this.#endSessions(sessions, config, { actor: PLATFORM_ADMIN_ACTOR, cause: `grants of ${personActor(subject)} revoked by an admin` });
    if (ended.sessionsFailed.length > 0) {
      await this.#audit("platform", "oauth.revoke-incomplete", personActor(subject), { failed: ended.sessionsFailed.length, sessions: ended.sessionsFailed.slice(0, 20) });
    }
    return { ok: true, ...result, ...ended };
  }

  async #grants<T>(run: (grants: GrantStore) => Promise<T>): Promise<T | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    return run(
      new GrantStore({
        sql: this.#sql,
        auth: config.auth,
        keyIsLive: (id) => this.#keys(config).isLive(id),
        serverEnabled: (name) => this.#servers.isEnabled(name),
        audit: (...entry) => this.#audit(...entry),
        authFailed: (reason) => this.#authFailed(reason),
        grantRevoked: async (grantId, cause) => void (await this.#endSessions(this.#sessions.ofGrant(grantId), config, cause)),
      }),
    );
  }

  // --- servers ---------------------------------------------------------------

  async enableServer(name: string): Promise<{ ok: true; created: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    return this.#servers.enable(name);
  }

  async disableServer(name: string): Promise<{ ok: true } | Missing | { ok: false; reason: "unknown-server" }> {
    if (!this.#config()) return MISSING;
    return this.#servers.disable(name);
  }

  /**
   * Removes a server and everything it holds: it is disabled, its sessions end, then
   * its files, tool data, secrets and deployed versions go in one transaction. Ending
   * the sessions spans objects, so it comes first and a failure there deletes nothing
   * (a live session could write again): the caller repeats the call, which re-drives
   * the end of whatever sessions are left. A repeat after success changes nothing.
   */
  async purgeServer(name: string): Promise<({ ok: true; removed: PurgedServer } & SessionsEnded) | Missing | ({ ok: false; reason: "sessions-pending" } & SessionsEnded)> {
    const config = this.#config();
    if (!config) return MISSING;
    const wasEnabled = this.#servers.isEnabled(name);
    if (wasEnabled) await this.#servers.disable(name);
    const ended = await this.#endSessions(this.#sessions.ofServer(name), config, { actor: "admin", cause: "server purged" });
    if (ended.sessionsFailed.length > 0) return { ok: false, reason: "sessions-pending", ...ended };
    const removed = this.ctx.storage.transactionSync((): PurgedServer => {
      const toolData = this.#toolData;
      const files = new ServerFiles(this.#sql, name, { usage: () => toolData.usage(), setUsage: (u) => toolData.setUsage(u), limits: { bytes: Infinity, rows: Infinity } }).purge();
      const toolRows = this.#sql.exec("DELETE FROM tool_data WHERE server = ?", name).rowsWritten;
      const secrets = new SecretStore(this.#sql).purge(name);
      const versions = this.#deploymentStore().purge(name);
      this.ctx.storage.kv.delete(upstreamKey(name));
      this.#upstreamHealth.remove(name);
      this.ctx.storage.kv.delete(policyKey(name));
      new MetricsRollup(this.#sql).remove(name);
      toolData.recount();
      return { files, toolData: toolRows, secrets, versions };
    });
    await this.#audit("admin", "server.purged", name, { ...removed });
    return { ok: true, removed, ...ended };
  }

  async listServers(): Promise<{ ok: true; servers: EnabledServer[] } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, servers: this.#servers.list() };
  }

  // --- upstream servers (gateway/upstream-config.ts): KV `upstream:{server}` -------------

  /** Stores the upstream of `server` and enables it; refused when tenant code is deployed under that name. */
  async upstreamPut(server: string, config: UpstreamConfig): Promise<{ ok: true; created: boolean } | Missing | { ok: false; reason: "deployed" }> {
    if (!this.#config()) return MISSING;
    if (this.#deploymentStore().view(server)) return { ok: false, reason: "deployed" };
    const key = upstreamKey(server);
    const created = this.ctx.storage.kv.get(key) === undefined;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.kv.put(key, config);
      this.#upstreamHealth.reset(server, config.updatedAt, Date.now());
    });
    await this.#upstreamHealth.arm(this.ctx.storage);
    await this.#servers.enable(server);
    await this.#audit("admin", "upstream.set", server, { url: config.url.slice(0, 512), headers: Object.keys(config.headers) });
    return { ok: true, created };
  }

  /** The stored configuration and its health (null until the upstream has a row: it gets one, and a probe, here). */
  async upstreamGet(server: string): Promise<{ ok: true; value: UpstreamConfig | null; health: UpstreamHealthView | null } | Missing> {
    if (!this.#config()) return MISSING;
    const value = this.ctx.storage.kv.get<UpstreamConfig>(upstreamKey(server)) ?? null;
    let health = value ? this.#upstreamHealth.get(server) : null;
    if (value && !health) {
      // Configured before health was kept: scheduled now, so no upstream goes unwatched.
      this.#upstreamHealth.reset(server, value.updatedAt, Date.now());
      await this.#upstreamHealth.arm(this.ctx.storage);
      health = this.#upstreamHealth.get(server);
    }
    return { ok: true, value, health };
  }

  /** Probes the upstream now (an admin asked), audited; its result also sets when the next scheduled probe runs. */
  async upstreamProbe(server: string): Promise<{ ok: true; value: UpstreamHealthView | null } | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    const upstream = this.ctx.storage.kv.get<UpstreamConfig>(upstreamKey(server));
    if (!upstream) return { ok: true, value: null };
    if (!this.#upstreamHealth.get(server)) this.#upstreamHealth.reset(server, upstream.updatedAt, Date.now());
    const health = await this.#probeUpstream(config, server);
    await this.#upstreamHealth.arm(this.ctx.storage);
    if (health) await this.#audit("admin", "upstream.probed", server, { state: health.state, tools: health.tools, latencyMs: health.latencyMs });
    return { ok: true, value: health };
  }

  get #upstreamHealth(): UpstreamHealth {
    return new UpstreamHealth(this.#sql);
  }

  /** Probes of one server that are running: a second caller waits for the same probe instead of starting one. */
  #probing = new Map<string, Promise<UpstreamHealthView | null>>();

  #probeUpstream(config: TenantConfig, server: string): Promise<UpstreamHealthView | null> {
    let running = this.#probing.get(server);
    if (!running) {
      running = this.#runProbe(config, server).finally(() => this.#probing.delete(server));
      this.#probing.set(server, running);
    }
    return running;
  }

  async #runProbe(config: TenantConfig, server: string): Promise<UpstreamHealthView | null> {
    const health = this.#upstreamHealth;
    const upstream = this.ctx.storage.kv.get<UpstreamConfig>(upstreamKey(server));
    if (!upstream) {
      health.remove(server);
      return null;
    }
    const schedule = probeSchedule(platformConfig(this.env));
    let result: ProbeResult;
    try {
      const headers = await upstreamHeaders(config.id, server, upstream.headers, () =>
        openSecrets(this.env, config.id, server, new SecretStore(this.#sql).sealed(server), (stale) => this.secretsReseal(stale, "platform")),
      );
      result = await probeUpstream(server, { url: upstream.url, headers, allowLoopback: platformConfig(this.env).SMCP_ALLOW_LOOPBACK_EGRESS }, schedule.timeoutMs);
    } catch (err) {
      const message = err instanceof UpstreamSetupError ? err.message : "the probe failed inside SMCP";
      result = { ok: false, latencyMs: 0, error: `Upstream ${server} cannot be called: ${message}` };
    }
    const recorded = health.record(server, upstream.updatedAt, result, Date.now(), schedule);
    if (recorded) this.#metrics.sampleUpstream(server, result.ok);
    return recorded;
  }

  /** One alarm run's share of due probes; the alarm is then armed for the next. */
  async #probeDueUpstreams(): Promise<void> {
    const config = this.#config();
    if (!config) return;
    const health = this.#upstreamHealth;
    try {
      const now = Date.now();
      const due = health.due(now, MAX_PROBES_PER_ALARM);
      await Promise.all(due.map((d) => this.#probeUpstream(config, d.server).catch(() => null)));
    } finally {
      await health.arm(this.ctx.storage);
    }
  }

  /** What `GET /admin/v1/health` shows of the tenant's upstreams. */
  #upstreamSummary(): UpstreamHealthSummary {
    return this.#upstreamHealth.summary();
  }

  /** Removes the upstream and disables the server (its live sessions keep the configuration they started with until they end). */
  async upstreamDelete(server: string): Promise<{ ok: true; deleted: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    const deleted = this.ctx.storage.kv.delete(upstreamKey(server));
    this.#upstreamHealth.remove(server);
    if (deleted) {
      if (this.#servers.isEnabled(server)) await this.#servers.disable(server);
      await this.#audit("admin", "upstream.deleted", server, {});
    }
    return { ok: true, deleted };
  }

  /** What serves an upstream server, as the Worker resolves it: the configuration (secret references, never values) and the secrets' revision. */
  async upstreamActive(server: string, incarnation: string): Promise<{ ok: true; value: (UpstreamConfig & { secrets: SecretsSummary }) | null } | Missing> {
    if (!this.#currentConfig(incarnation)) return MISSING;
    const config = this.ctx.storage.kv.get<UpstreamConfig>(upstreamKey(server));
    return { ok: true, value: config ? { ...config, secrets: new SecretStore(this.#sql).summary(server) } : null };
  }

  // --- tool policies (policy/tool-policy.ts): KV `policy:{server}` -------------------

  /**
   * Stores the tool policy of an enabled server (any kind) and tells its live sessions,
   * each with its own bounded attempt; one that does not hear of it learns on its next message.
   */
  async policyPut(server: string, policy: ToolPolicy): Promise<{ ok: true; created: boolean; incarnation: string } | Missing | { ok: false; reason: "unknown-server" }> {
    const config = this.#config();
    if (!config) return MISSING;
    if (!this.#servers.isEnabled(server)) return { ok: false, reason: "unknown-server" };
    const key = policyKey(server);
    const created = this.ctx.storage.kv.get(key) === undefined;
    this.ctx.storage.kv.put(key, policy);
    await this.#audit("admin", "policy.set", server, policySummary(policy));
    this.ctx.waitUntil(this.#sessionObjects(config).policyChanged(this.#sessions.ofServer(server), policy));
    return { ok: true, created, incarnation: config.incarnation };
  }

  async policyGet(server: string): Promise<{ ok: true; value: ToolPolicy | null } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, value: this.ctx.storage.kv.get<ToolPolicy>(policyKey(server)) ?? null };
  }

  async policyDelete(server: string): Promise<{ ok: true; deleted: boolean; incarnation: string } | Missing> {
    const config = this.#config();
    if (!config) return MISSING;
    const deleted = this.ctx.storage.kv.delete(policyKey(server));
    if (deleted) {
      await this.#audit("admin", "policy.deleted", server, {});
      this.ctx.waitUntil(this.#sessionObjects(config).policyChanged(this.#sessions.ofServer(server), null));
    }
    return { ok: true, deleted, incarnation: config.incarnation };
  }

  /** The policy the Worker applies to a server's requests (null: none), for the tenant incarnation it resolved. */
  async policyActive(server: string, incarnation: string): Promise<{ ok: true; value: ToolPolicy | null } | Missing> {
    if (!this.#currentConfig(incarnation)) return MISSING;
    return { ok: true, value: this.ctx.storage.kv.get<ToolPolicy>(policyKey(server)) ?? null };
  }

  // --- single sign-on (tenant/identity.ts): KV `identity` ----------------------------

  /** Stores the tenant's identity provider (its client secret already sealed by the Worker). */
  async identityPut(identity: StoredIdentity): Promise<{ ok: true; created: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    const created = this.ctx.storage.kv.get(IDENTITY_KEY) === undefined;
    this.ctx.storage.kv.put(IDENTITY_KEY, identity);
    await this.#audit("admin", "identity.set", "identity", identitySummary(identity));
    return { ok: true, created };
  }

  async identityGet(): Promise<{ ok: true; value: StoredIdentity | null } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, value: this.ctx.storage.kv.get<StoredIdentity>(IDENTITY_KEY) ?? null };
  }

  /** Replaces the sealed client secret after a re-key, only if it is still the value it was opened from: a PUT meanwhile wins. */
  async identityReseal(from: SealedSecret, to: SealedSecret): Promise<{ ok: true; replaced: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    const current = this.ctx.storage.kv.get<StoredIdentity>(IDENTITY_KEY);
    if (!current || current.clientSecret.keyId !== from.keyId || current.clientSecret.iv !== from.iv) return { ok: true, replaced: false };
    this.ctx.storage.kv.put(IDENTITY_KEY, { ...current, clientSecret: to });
    await this.#audit("admin", "identity.rekeyed", "identity", { keyId: to.keyId });
    return { ok: true, replaced: true };
  }

  async identityDelete(): Promise<{ ok: true; deleted: boolean } | Missing> {
    if (!this.#config()) return MISSING;
    const deleted = this.ctx.storage.kv.delete(IDENTITY_KEY);
    if (deleted) await this.#audit("admin", "identity.deleted", "identity", {});
    return { ok: true, deleted };
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
    if (!this.#currentConfig(incarnation)) return MISSING;
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
    if (!this.#currentConfig(incarnation)) return MISSING;
    return this.#deployments((d) => d.report(server, version, report));
  }

  /** Console lines of a server's instances (redacted by the session that kept them); another incarnation's are dropped. */
  async deploymentConsole(server: string, lines: ConsoleLine[], incarnation: string) {
    if (!this.#currentConfig(incarnation)) return MISSING;
    return this.#deployments((d) => d.console(server, lines));
  }

  /** An admin cancelled a task of the tenant (tasks/task-do.ts holds it): the audit row. */
  async taskCancelledByAdmin(taskId: string) {
    if (!this.#config()) return MISSING;
    await this.#audit("admin", "task.cancelled", taskId, {});
    return { ok: true as const };
  }

  async deploymentRefused(server: string, reason: string) {
    return this.#deployments(() => this.#audit("admin", "deployment.refused", server, { reason }));
  }

  async #deployments<T>(run: (store: DeploymentStore) => T): Promise<{ ok: true; value: Awaited<T> } | Missing> {
    if (!this.#config()) return MISSING;
    return { ok: true, value: await run(this.#deploymentStore()) };
  }

  #deploymentStore(): DeploymentStore {
    return new DeploymentStore({
      sql: this.#sql,
      enableServer: (name) => this.#servers.ensureEnabled(name),
      oldestLiveSession: (name) => this.#sessions.oldestOf(name),
      audit: (...entry) => this.#audit(...entry),
    });
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
    const current = this.#currentConfig(incarnation);
    if (!current) return { ok: false, reason: "unknown-tenant" };
    await this.#sessionObjects(current).sweep();
    const config = this.#currentConfig(incarnation);
    if (!config) return { ok: false, reason: "unknown-tenant" };
    if (!this.#credentialLive(config, record)) return { ok: false, reason: "invalid-credential" };
    if (!this.#servers.isEnabled(record.server)) return { ok: false, reason: "unknown-server" };
    const limits = this.#limits(config);
    if (this.#sessions.count() >= limits.maxSessions) {
      await this.#limitHit("sessions", { limit: limits.maxSessions });
      return { ok: false, reason: "session-limit", limit: limits.maxSessions };
    }
    if (this.#runsInstances(record.server)) {
      const live = this.#sql
        .exec<{ n: number }>(
          "SELECT count(*) AS n FROM sessions s JOIN deployments d ON d.server = s.server AND d.status = 'active' AND d.kind = 'sdk'",
        )
        .one().n;
      if (live >= limits.maxInstances) {
        await this.#limitHit("instances", { limit: limits.maxInstances });
        return { ok: false, reason: "instance-limit", limit: limits.maxInstances };
      }
    }
    this.#sessions.add(record);
    this.#metrics.sampleServer(record.server);
    await this.#audit(this.#sessionActor(record), "session.created", record.id, {
      server: record.server,
      protocolVersion: clip(record.protocolVersion),
      client: typeof record.clientInfo?.name === "string" ? clip(record.clientInfo.name) : null,
    });
    return { ok: true, eventLogBytes: limits.eventLogBytes };
  }

  /**
   * The audit actor of a session's own acts: the person behind its grant when they signed
   * in (`sso:{subject}`), else its grant or key (tenant/audit-log.ts `sessionActorOf`).
   */
  #sessionActor(record: { keyId: string | null; grantId?: string | null }): string {
    if (record.grantId && record.keyId === null) {
      const subject = this.#sql.exec<{ subject: string | null }>("SELECT subject FROM oauth_grants WHERE id = ?", record.grantId).toArray()[0]?.subject;
      if (subject) return personActor(subject);
    }
    return sessionActorOf(record);
  }

  /** Whether a session of `server` runs an instance of its own (a deployed SDK server). */
  #runsInstances(server: string): boolean {
    return this.#sql.exec("SELECT 1 FROM deployments WHERE server = ? AND status = 'active' AND kind = 'sdk'", server).toArray().length > 0;
  }

  #credentialLive(config: TenantConfig, record: SessionRecord): boolean {
    if (config.auth === "none") return true;
    // A person's grant (single sign-on) has no key behind it: the grant alone decides.
    if (record.keyId === null) return !!record.grantId && isGrantLive(this.#sql, record.grantId);
    if (!this.#keys(config).isLive(record.keyId)) return false;
    return !record.grantId || isGrantLive(this.#sql, record.grantId);
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
    this.#forgetConfig();
    await this.#audit("admin", "tenant.limits", tenant.id, { limits: tenant.limits });
    return { ok: true, tenant };
  }

  #limitHit(kind: string, detail: Record<string, unknown>): Promise<void> {
    return this.#limitAudit.hit(kind, detail);
  }

  /** A session's periodic report, applied once per `update.seq`; the ack tells the session its increments arrived. */
  async sessionTouched(id: string, update: SessionUpdate): Promise<SessionReportAck> {
    if (!this.#config()) return { ok: false, reason: "unknown-session" };
    const metrics = this.#metrics;
    // The report and its metrics deltas are one write: the index row and the minute rows together.
    const known = this.ctx.storage.transactionSync(() => {
      const server = this.#applyReport(id, update);
      this.#sessions.countReportCall();
      if (server === undefined) return false;
      metrics.sampleServer(server);
      return true;
    });
    if (!known) return { ok: false, reason: "unknown-session" };
    await metrics.armPrune();
    return { ok: true, seq: update.seq };
  }

  /**
   * One session's report into its index row and the metrics, inside the caller's
   * transaction (a direct report or a shard's batch); the session's server, or undefined
   * when the index does not hold the session.
   */
  #applyReport(id: string, update: SessionUpdate): string | undefined {
    const before = this.#sessions.reportOf(id);
    if (!before) return undefined;
    this.#sessions.touch(id, update, before);
    this.#metrics.foldReport(before.server, before.seq, update);
    return before.server;
  }

  /**
   * One flush of a report shard (tenant/report-shard-do.ts): each session's report applied
   * as `sessionTouched` applies it (once per session seq), the whole batch once per
   * (shard, batch seq), all in one transaction, and the gauges sampled once per server.
   * Answers the sessions it does not index, so the shard can forget them.
   */
  async applyReportBatch(batch: ReportBatch): Promise<ReportBatchAck> {
    const reports = Array.isArray(batch?.reports) ? batch.reports.slice(0, MAX_BATCH) : [];
    if (!this.#config()) return { ok: true, duplicate: false, unknown: reports.map((r) => r.id) };
    const metrics = this.#metrics;
    const ack = this.ctx.storage.transactionSync((): ReportBatchAck => {
      const applied = this.#sql.exec<{ seq: number }>("SELECT seq FROM report_batches WHERE shard = ?", batch.shard).toArray()[0];
      if (applied && batch.seq <= applied.seq) return { ok: true, duplicate: true, unknown: [] };
      const unknown: string[] = [];
      const servers = new Set<string>();
      for (const { id, update } of reports) {
        const server = this.#applyReport(id, update);
        if (server === undefined) unknown.push(id);
        else servers.add(server);
      }
      for (const server of servers) metrics.sampleServer(server);
      this.#sql.exec("INSERT OR REPLACE INTO report_batches (shard, seq, applied_at) VALUES (?, ?, ?)", batch.shard, batch.seq, Date.now());
      this.#sessions.countReportCall();
      return { ok: true, duplicate: false, unknown };
    });
    await metrics.armPrune();
    return ack;
  }

  /**
   * Drops a session from the index, keeping its counters (the final report's, when it
   * is newer than the last applied) in the tenant's totals. Idempotent: a session
   * re-driving its end after a lost answer finds its row gone and changes nothing.
   */
  async sessionClosed(id: string, reason: SessionEndReason, final?: SessionUpdate, cause?: SessionEndCause): Promise<{ ok: true }> {
    if (!this.#config()) return { ok: true };
    const metrics = this.#metrics;
    const removed = this.ctx.storage.transactionSync(() => {
      const before = this.#sessions.reportOf(id);
      if (before && final) metrics.foldReport(before.server, before.seq, final);
      const removed = this.#sessions.remove(id, final);
      if (before) metrics.sampleServer(before.server);
      return removed;
    });
    if (!removed) return { ok: true };
    await metrics.armPrune();
    // An end from outside names who caused it; otherwise the client (DELETE), an admin or the
    // tenant admin key that terminated it, or the platform (TTL, refusal).
    const terminator = this.#terminator(id);
    const actor =
      cause?.actor === PLATFORM_ADMIN_ACTOR || (!cause && reason === "terminated")
        ? terminator
        : (cause?.actor ?? (reason === "deleted" ? this.#sessionActor(removed) : "platform"));
    await this.#audit(actor, "session.ended", id, cause ? { reason, cause: cause.cause } : { reason });
    return { ok: true };
  }

  /** The tenant's health figures: sessions from the index, requests and errors from the metrics totals (every lane). */
  async stats(): Promise<(TenantStats & { upstreams: UpstreamHealthSummary }) | null> {
    return this.#config() ? { ...this.#sessions.stats(), ...new MetricsRollup(this.#sql).grandTotal(), upstreams: this.#upstreamSummary() } : null;
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
    return { ok: true, entries: this.#log.page(afterSeq, Math.max(1, Math.min(500, Math.trunc(limit) || 1))) };
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
    return new AuditRetention(this.ctx.storage, this.#log);
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

  /**
   * One call of a sandbox's `SandboxFiles` (the rules are in tenant/server-files.ts): a
   * refusal is an answer, and a write that fails rolls back whole.
   */
  async files(server: string, call: FileCall, incarnation: string): Promise<FileAnswer<unknown>> {
    const config = this.#currentConfig(incarnation);
    if (!config) return { ok: false, code: "EACCES", message: "this server's tenant no longer exists" };
    const limits = this.#limits(config);
    const toolData = this.#toolData;
    const files = new ServerFiles(this.#sql, server, {
      usage: () => toolData.usage(),
      setUsage: (u) => toolData.setUsage(u),
      limits: { bytes: limits.toolDataBytes, rows: limits.toolDataRows },
    });
    try {
      return { ok: true, value: this.ctx.storage.transactionSync(() => files.apply(call)) };
    } catch (err) {
      if (!(err instanceof FileError)) throw err;
      if (err.code === "ENOSPC") await this.#limitHit("tool-data", { limit: limits.toolDataBytes, used: toolData.usage().bytes, files: true });
      return { ok: false, code: err.code, message: err.message };
    }
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
