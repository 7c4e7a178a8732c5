/** The shapes a tenant's Durable Object hands across RPC. */
import type { ClientInfo } from "@smcp/runtime";

export type TenantAuthMode = "key" | "none";

export interface TenantLimits {
  requestsPerSecond?: number;
  maxSessions?: number;
  eventLogBytes?: number;
  toolDataBytes?: number;
  toolDataRows?: number;
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
  /** Set for sessions opened with an OAuth access token. */
  grantId?: string | null;
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

export type SessionAdmission =
  | { ok: true; eventLogBytes: number }
  | { ok: false; reason: "unknown-tenant" }
  | { ok: false; reason: "session-limit"; limit: number };

export type DataPutResult =
  | { ok: true }
  | { ok: false; reason: "unknown-tenant" }
  | { ok: false; reason: "quota" | "rows"; limit: number; used: number };

export type AuthDecision =
  | { ok: true; keyId: string | null; auth: TenantAuthMode }
  | { ok: false; reason: "unknown-tenant" | "invalid-key" | "unknown-server" };
