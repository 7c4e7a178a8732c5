/** The shapes a tenant's Durable Object hands across RPC. */
import type { ClientInfo } from "@smcp/runtime";
import type { AccessCheck, AccessDecision } from "../oauth/grant-store";
import type { SentDelta } from "../mcp/request-log";

export type TenantAuthMode = "key" | "none";

export interface TenantLimits {
  requestsPerSecond?: number;
  maxSessions?: number;
  eventLogBytes?: number;
  toolDataBytes?: number;
  toolDataRows?: number;
  maxInstances?: number;
}

export interface TenantConfig {
  id: string;
  name: string;
  auth: TenantAuthMode;
  limits: TenantLimits;
  createdAt: number;
  /**
   * Minted when the tenant is created; part of every name derived from the tenant
   * (`@smcp/runtime` names.ts). Tenants created before it existed are read with
   * `LEGACY_INCARNATION`.
   */
  incarnation: string;
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
  /** Set for sessions opened with an OAuth access token. */
  grantId?: string | null;
  protocolVersion: string;
  clientInfo: ClientInfo | null;
  createdAt: number;
  lastActivity: number;
  expiresAt: number;
}

/**
 * What a session reports to the tenant's index as it runs. `requests` and `errors` are
 * the session's running totals, kept durable in the session's own storage, so each
 * report carries every increment not yet acknowledged; `seq` grows with every report,
 * and the tenant applies a report only when its `seq` is newer than the last one it
 * applied, so a retried or reordered report adds nothing twice.
 */
export interface SessionUpdate {
  seq: number;
  lastActivity: number;
  expiresAt: number;
  requests: number;
  errors: number;
  eventBytes: number;
  /** The session's metrics deltas not yet acknowledged, each under the seq of the report that first carried it (mcp/request-log.ts). */
  metrics?: SentDelta[];
  /** The session's alarm runs so far, as running totals (absent from sessions that have had none, and from older code). */
  alarms?: AlarmTotals;
}

/** A session's alarm runs: counted by the session and sent with its reports, never in a call of their own. */
export interface AlarmTotals {
  runs: number;
  failures: number;
  lagMsTotal: number;
  lagMsMax: number;
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
  /** Report calls the tenant object received: sessions' own reports and report shards' batches. */
  reportCalls: number;
}

export type SessionAdmission =
  | { ok: true; eventLogBytes: number }
  | { ok: false; reason: "unknown-tenant" }
  | { ok: false; reason: "session-limit"; limit: number }
  /** Every live instance a tenant may run (of its deployed SDK servers) is running. */
  | { ok: false; reason: "instance-limit"; limit: number }
  /** The key or OAuth grant was revoked (the Worker's auth cache may lag by a few seconds). */
  | { ok: false; reason: "invalid-credential" }
  | { ok: false; reason: "unknown-server" };

/** Why a session ended: client DELETE, idle TTL, admin or revocation, refused after admission by the SDK. */
export type SessionEndReason = "deleted" | "expired" | "terminated" | "refused";

/** Who ended a session from outside it (revocation, tenant delete, admin) and why: its audit actor and cause. */
export interface SessionEndCause {
  actor: string;
  cause: string;
}

/** The tenant's answer to a session's report: whether the session is still in the index. */
export type SessionReportAck = { ok: true; seq: number } | { ok: false; reason: "unknown-session" };

export type DataPutResult =
  | { ok: true }
  | { ok: false; reason: "unknown-tenant" }
  | { ok: false; reason: "quota" | "rows"; limit: number; used: number };

export type AuthDecision =
  | { ok: true; keyId: string | null; auth: TenantAuthMode; incarnation: string }
  | { ok: false; reason: "unknown-tenant" | "invalid-key" | "unknown-server" };

/** What the MCP endpoint asks the tenant object about a bearer: a tenant key's digest (or none), or an access token's. */
export type BearerCheck = { kind: "key"; server: string; keyHash: string | null; malformed?: boolean } | ({ kind: "access" } & AccessCheck);
/** The grant store's decision, with the incarnation of the tenant that made it (tenant-do.ts `oauthCheckAccess`). */
export type TenantAccessDecision = Exclude<AccessDecision, { ok: true }> | (Extract<AccessDecision, { ok: true }> & { incarnation: string });
export type BearerDecision = AuthDecision | TenantAccessDecision | { ok: false; reason: "unknown-tenant" };
