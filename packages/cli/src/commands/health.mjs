/** `smcp health`: the platform at a glance, from `GET /admin/v1/health`. */
import { bytes, fields, plural } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** `{notes: 2, everything: 1}` as `notes 2, everything 1`. */
const counts = (/** @type {Record<string, number>} */ byName) =>
  Object.entries(byName ?? {})
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");

/** @type {Command} */
export const healthCommand = {
  usage: "health",
  summary: "platform health: sessions, error rate, alarm lag, per server, unreachable upstreams",
  async run({ api, out }) {
    const health = await api.get("/health");
    out.result(health, (h) =>
      fields([
        ["status", `${h.ok ? "ok" : "NOT OK"} (version ${h.version})`],
        ["tenants", h.tenants],
        ["sessions", `${h.sessions.total}` + (h.sessions.total ? ` (by server: ${counts(h.sessions.byServer)}; by tenant: ${counts(h.sessions.byTenant)})` : "")],
        ["requests", `${h.requests.total}, ${plural(h.requests.errors, "error")} (${(h.requests.errorRate * 100).toFixed(1)}%)`],
        ["alarms", `${plural(h.alarms.runs, "run")}, ${plural(h.alarms.failures, "failure")}, lag avg ${h.alarms.lagMsAvg} ms, max ${h.alarms.lagMsMax} ms`],
        ["event logs", bytes(h.eventLog.bytes)],
        [
          "upstreams",
          h.upstreams
            ? `${h.upstreams.total}, ${h.upstreams.unreachable} unreachable${h.upstreams.unreachableServers.length ? ` (${h.upstreams.unreachableServers.join(", ")})` : ""}${h.upstreams.unchecked ? `, ${h.upstreams.unchecked} not probed yet` : ""}`
            : null,
        ],
      ]),
    );
  },
};
