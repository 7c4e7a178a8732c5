/**
 * A tenant's effective limits: what the admin set for it, else the platform default
 * from the environment. One place, so the tenant, the session and the Worker agree.
 */
import type { PlatformConfig } from "@smcp/runtime";
import type { TenantLimits } from "./tenant/types";

export interface EffectiveLimits {
  requestsPerSecond: number;
  maxSessions: number;
  eventLogBytes: number;
  toolDataBytes: number;
  toolDataRows: number;
  /** Live instances of deployed SDK servers (one per session of such a server). */
  maxInstances: number;
}

export function effectiveLimits(limits: TenantLimits, config: PlatformConfig): EffectiveLimits {
  return {
    requestsPerSecond: limits.requestsPerSecond ?? config.SMCP_DEFAULT_REQUESTS_PER_SECOND,
    maxSessions: limits.maxSessions ?? config.SMCP_DEFAULT_MAX_SESSIONS,
    // A tenant may lower the per-session event-log bound, never raise it above the platform's.
    eventLogBytes: Math.min(limits.eventLogBytes ?? config.SMCP_EVENT_LOG_MAX_BYTES, config.SMCP_EVENT_LOG_MAX_BYTES),
    toolDataBytes: limits.toolDataBytes ?? config.SMCP_DEFAULT_TOOL_DATA_BYTES,
    toolDataRows: limits.toolDataRows ?? config.SMCP_DEFAULT_TOOL_DATA_ROWS,
    maxInstances: limits.maxInstances ?? config.SMCP_MAX_INSTANCES_PER_TENANT,
  };
}
