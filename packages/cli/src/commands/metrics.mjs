/**
 * `smcp metrics`: a tenant's traffic from the metrics rollups, through the series API
 * (`GET /admin/v1/tenants/{t}/servers/{s}/series`), the same figures the dashboard charts.
 */
import { adminPath } from "../api.mjs";
import { clock, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

const msText = (/** @type {number | null} */ n) => (n === null ? "-" : `${n} ms`);
const sum = (/** @type {any[]} */ points, /** @type {string} */ field) => points.reduce((t, p) => t + p[field], 0);

/** @type {Command} */
export const metricsCommand = {
  usage: "metrics <tenant> [--server SERVER] [--range 1h|24h]",
  summary: "requests, errors and latency percentiles per server (the last hour by default), or one server's steps",
  async run({ api, args, opts, out }) {
    const range = opts.range ?? "1h";
    if (opts.server) {
      const series = await api.get(adminPath`/tenants/${args.tenant}/servers/${opts.server}/series`, { range });
      out.result(series, (s) =>
        table(
          ["STEP", "REQUESTS", "ERRORS", "P50", "P95", "P99"],
          s.points.map((/** @type {any} */ p) => [clock(Date.parse(p.t), range === "24h"), p.requests, p.errors, msText(p.p50Ms), msText(p.p95Ms), msText(p.p99Ms)]),
        ),
      );
      return;
    }
    const { servers } = await api.get(adminPath`/tenants/${args.tenant}/servers`);
    const all = await Promise.all(servers.map((/** @type {any} */ s) => api.get(adminPath`/tenants/${args.tenant}/servers/${s.name}/series`, { range })));
    out.result({ tenant: args.tenant, range, servers: all }, ({ servers: rows }) =>
      rows.length === 0
        ? `${args.tenant} has no servers enabled`
        : table(
            ["SERVER", `REQUESTS (${range})`, "ERRORS", "P95 (LAST BUSY STEP)"],
            rows.map((/** @type {any} */ s) => {
              const busy = s.points.filter((/** @type {any} */ p) => p.requests > 0).at(-1);
              return [s.server, sum(s.points, "requests"), sum(s.points, "errors"), msText(busy?.p95Ms ?? null)];
            }),
          ),
    );
  },
};
