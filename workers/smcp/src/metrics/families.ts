/**
 * SMCP's metric families, built from tenants' snapshots (tenant/metrics.ts): the one
 * place that names them, for the per-tenant scrape and the platform aggregate alike.
 */
import { ERROR_KINDS } from "./error-kinds";
import { histogramSeries, sample, type Family } from "./exposition";
import type { MetricsSnapshot } from "../tenant/metrics";

export function familiesOf(snapshots: readonly { tenant: string; snapshot: MetricsSnapshot }[]): Family[] {
  const requests: Family = { name: "smcp_requests_total", help: "JSON-RPC requests answered, by tenant, server, method and tool.", type: "counter", series: [] };
  const errors: Family = {
    name: "smcp_errors_total",
    help: `Requests that failed, by kind: ${ERROR_KINDS.join(", ")} (see the README's Metrics section).`,
    type: "counter",
    series: [],
  };
  const duration: Family = { name: "smcp_request_duration_seconds", help: "Time from a request's arrival to its answer.", type: "histogram", series: [] };
  const sessions: Family = { name: "smcp_sessions", help: "Live sessions (session lane).", type: "gauge", series: [] };
  const eventBytes: Family = { name: "smcp_event_log_bytes", help: "Bytes in the live sessions' SSE event logs.", type: "gauge", series: [] };
  const instances: Family = { name: "smcp_sandbox_instances", help: "Sandbox instances of deployed SDK servers (one per live session).", type: "gauge", series: [] };
  const upstreamUp: Family = { name: "smcp_upstream_up", help: "1 when the upstream server answered its last health probe, 0 when it failed (absent until probed).", type: "gauge", series: [] };
  const probe: Family = { name: "smcp_upstream_probe_duration_seconds", help: "Duration of the upstream's last health probe.", type: "gauge", series: [] };
  for (const { tenant, snapshot } of snapshots) {
    for (const s of snapshot.series) {
      const labels = [["tenant", tenant], ["server", s.server], ["method", s.method], ["tool", s.tool]] as const;
      requests.series.push(sample(requests.name, labels, s.requests));
      s.errors.forEach((n, i) => {
        if (n > 0) errors.series.push(sample(errors.name, [...labels, ["kind", ERROR_KINDS[i]!]], n));
      });
      duration.series.push(histogramSeries(duration.name, labels, s.buckets, s.sumMs));
    }
    for (const g of snapshot.gauges) {
      const labels = [["tenant", tenant], ["server", g.server]] as const;
      sessions.series.push(sample(sessions.name, labels, g.sessions));
      eventBytes.series.push(sample(eventBytes.name, labels, g.eventBytes));
      if (g.instances > 0) instances.series.push(sample(instances.name, labels, g.instances));
    }
    for (const u of snapshot.upstreams) {
      if (u.up === null) continue;
      const labels = [["tenant", tenant], ["server", u.server]] as const;
      upstreamUp.series.push(sample(upstreamUp.name, labels, u.up ? 1 : 0));
      if (u.latencyMs !== null) probe.series.push(sample(probe.name, labels, u.latencyMs / 1000));
    }
  }
  // Gauges first: they are few, and a cut scrape should still show what is live.
  return [sessions, eventBytes, instances, upstreamUp, probe, requests, errors, duration];
}
