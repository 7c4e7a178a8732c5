/**
 * Metrics for operators: the Prometheus scrapes (`GET /admin/v1/tenants/{t}/metrics`,
 * and the platform's `GET /admin/v1/metrics`) and the series the dashboard's charts
 * read (`GET /admin/v1/tenants/{t}/servers/{s}/series?range=1h|24h`). Everything is
 * read from the tenants' rollups (tenant/metrics.ts); nothing here writes.
 *
 * The platform scrape reads at most `SMCP_METRICS_MAX_TENANTS` tenants (in directory
 * order), `FAN_OUT` at a time, and stops asking for series once the scrape is full; what
 * it left out it says (`smcp_scrape_truncated`, and `smcp_scrape_tenants_skipped`).
 */
import { jsonResponse, platformConfig, wire } from "@smcp/runtime";
import { directoryStub, tenantStub, type Env } from "../env";
import { CONTENT_TYPE, render, sample } from "../metrics/exposition";
import { familiesOf } from "../metrics/families";
import { isSeriesRange, SERIES_RANGES, type ServerSeries } from "../metrics/series";
import type { MetricsSnapshot } from "../tenant/metrics";
import { unknownTenant } from "./tenants";

/** Tenant objects the platform scrape asks at once. */
const FAN_OUT = 8;

const exposition = (text: string) => new Response(text, { headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" } });

export async function getTenantMetrics(env: Env, tenant: string): Promise<Response> {
  const maxSeries = platformConfig(env).SMCP_METRICS_MAX_SERIES;
  const result = await tenantStub(env, tenant).metricsSnapshot(maxSeries);
  if (!result.ok) throw unknownTenant(tenant);
  return exposition(render(familiesOf([{ tenant, snapshot: result.value }]), maxSeries));
}

export async function getPlatformMetrics(env: Env): Promise<Response> {
  const config = platformConfig(env);
  const ids = await directoryStub(env).list();
  const asked = ids.slice(0, config.SMCP_METRICS_MAX_TENANTS);
  const snapshots: { tenant: string; snapshot: MetricsSnapshot }[] = [];
  let budget = config.SMCP_METRICS_MAX_SERIES;
  for (let i = 0; i < asked.length && budget > 0; i += FAN_OUT) {
    const batch = asked.slice(i, i + FAN_OUT);
    const share = Math.max(1, Math.ceil(budget / batch.length));
    const answers = await Promise.all(batch.map(async (tenant) => ({ tenant, result: await tenantStub(env, tenant).metricsSnapshot(share) })));
    for (const { tenant, result } of answers) {
      if (!result.ok) continue;
      snapshots.push({ tenant, snapshot: result.value });
      // Each series costs up to its histogram's lines; an estimate that stops asking early is enough, `render` cuts exactly.
      budget -= result.value.series.length * 18 + result.value.gauges.length * 3;
    }
  }
  const families = familiesOf(snapshots);
  const skipped = ids.length - snapshots.length;
  families.unshift({
    name: "smcp_scrape_tenants_skipped",
    help: "Tenants this platform scrape did not read (beyond SMCP_METRICS_MAX_TENANTS or the series budget, or deleted meanwhile).",
    type: "gauge",
    series: [sample("smcp_scrape_tenants_skipped", [], Math.max(0, skipped))],
  });
  const text = render(families, config.SMCP_METRICS_MAX_SERIES);
  return exposition(text);
}

export async function getServerSeries(request: Request, env: Env, tenant: string, server: string): Promise<Response> {
  const range = new URL(request.url).searchParams.get("range") ?? "1h";
  if (!isSeriesRange(range)) throw wire.badRequest("invalid_range", `range must be one of ${Object.keys(SERIES_RANGES).join(", ")}`);
  const result = await tenantStub(env, tenant).metricsSeries(server, range);
  if (!result.ok) throw unknownTenant(tenant);
  const body: ServerSeries = { tenant, server, range, ...result.value };
  return jsonResponse(body);
}
