/**
 * `GET /admin/v1/health`: the platform at a glance, summed from every tenant's own
 * counters (sessions by tenant and server, requests and error rate, alarm runs and
 * lag, event-log bytes, upstream servers by their last probe). It reads each tenant
 * once, in parallel; no request path
 * writes to a global object to make this possible.
 */
import { jsonResponse } from "@smcp/runtime";
import { directoryStub, tenantStub, type Env } from "../env";
import type { TenantStats } from "../tenant/types";
import type { UpstreamHealthSummary } from "../tenant/upstream-health";

type Stats = TenantStats & { upstreams: UpstreamHealthSummary };

export async function getHealth(env: Env): Promise<Response> {
  const ids = await directoryStub(env).list();
  const stats = await Promise.all(ids.map(async (id) => [id, await tenantStub(env, id).stats()] as const));
  const live = stats.filter((s): s is readonly [string, Stats] => s[1] !== null);
  const total = (f: (s: Stats) => number) => live.reduce((t, [, s]) => t + f(s), 0);
  const byServer: Record<string, number> = {};
  for (const [, s] of live) for (const [server, n] of Object.entries(s.sessionsByServer)) byServer[server] = (byServer[server] ?? 0) + n;
  const requests = total((s) => s.requests);
  const errors = total((s) => s.errors);
  const alarms = total((s) => s.alarms);
  return jsonResponse({
    ok: true,
    version: env.SMCP_VERSION ?? "dev",
    tenants: live.length,
    sessions: { total: total((s) => s.sessions), byTenant: Object.fromEntries(live.map(([id, s]) => [id, s.sessions])), byServer },
    requests: { total: requests, errors, errorRate: requests ? errors / requests : 0 },
    alarms: {
      runs: alarms,
      failures: total((s) => s.alarmFailures),
      lagMsMax: Math.max(0, ...live.map(([, s]) => s.alarmLagMsMax)),
      lagMsAvg: alarms ? Math.round(total((s) => s.alarmLagMsAvg * s.alarms) / alarms) : 0,
    },
    eventLog: { bytes: total((s) => s.eventLogBytes) },
    // Report calls the tenant objects received (sessions' reports, report shards' batches): what sharding keeps low.
    reports: { tenantCalls: total((s) => s.reportCalls) },
    upstreams: {
      total: total((s) => s.upstreams.total),
      reachable: total((s) => s.upstreams.reachable),
      unreachable: total((s) => s.upstreams.unreachable),
      unchecked: total((s) => s.upstreams.unchecked),
      // Named per tenant, at most 20 servers of each: enough to know where to look.
      unreachableServers: live.flatMap(([id, s]) => s.upstreams.unreachableServers.map((server) => `${id}/${server}`)).slice(0, 100),
    },
  });
}
