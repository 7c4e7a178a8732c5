/**
 * `smcp top <tenant>`: each of a tenant's servers' live rates in the terminal, redrawn
 * every few seconds until Ctrl+C, like top(1); `--once` prints one frame and exits
 * (for scripts and tests). It reads the same series API as the dashboard's charts
 * (`GET .../servers/{s}/series?range=1h`) and the live session list, so a terminal and
 * the dashboard never disagree. `smcp metrics <tenant> --server S` prints that series itself.
 *
 * Rates are over the last five one-minute steps (the current minute is still filling,
 * so one step alone would read low); latency is the newest step that had traffic.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { adminPath } from "../api.mjs";
import { ApiError } from "../errors.mjs";
import { clock, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */
/** @typedef {{ t: string, requests: number, errors: number, p50Ms: number | null, p95Ms: number | null, p99Ms: number | null }} SeriesPoint */

/** Steps the rates average over. */
const WINDOW_STEPS = 5;
const CLEAR = "\x1b[H\x1b[2J";

/**
 * One server's row of `top`, from its series and its live sessions.
 * @param {string} server
 * @param {{ stepSeconds: number, points: SeriesPoint[] } | null} series null when the platform has no series API
 * @param {number} sessions
 */
export function topRow(server, series, sessions) {
  if (!series) return { server, sessions, requestsPerMinute: null, errorRate: null, p50Ms: null, p95Ms: null, p99Ms: null };
  const recent = series.points.slice(-WINDOW_STEPS);
  const requests = recent.reduce((n, p) => n + p.requests, 0);
  const errors = recent.reduce((n, p) => n + p.errors, 0);
  const minutes = (recent.length * series.stepSeconds) / 60;
  const latest = [...series.points].reverse().find((p) => p.p50Ms !== null) ?? null;
  return {
    server,
    sessions,
    requestsPerMinute: minutes > 0 ? Math.round((requests / minutes) * 100) / 100 : 0,
    errorRate: requests > 0 ? Math.round((errors / requests) * 10_000) / 10_000 : 0,
    p50Ms: latest?.p50Ms ?? null,
    p95Ms: latest?.p95Ms ?? null,
    p99Ms: latest?.p99Ms ?? null,
  };
}

/**
 * @param {import("../api.mjs").Api} api
 * @param {string} tenant
 * @param {string} server
 * @param {string} range
 * @param {AbortSignal} [signal]
 */
async function seriesOf(api, tenant, server, range, signal) {
  try {
    return await api.get(adminPath`/tenants/${tenant}/servers/${server}/series`, { range }, signal);
  } catch (err) {
    // A platform from before the metrics pipeline has no such route; top still shows sessions.
    if (err instanceof ApiError && err.status === 404 && err.code === "not_found") return null;
    throw err;
  }
}

/**
 * One frame: every enabled server of the tenant.
 * @param {import("../api.mjs").Api} api
 * @param {string} tenant
 * @param {() => number} now
 * @param {AbortSignal} [signal]
 */
export async function topFrame(api, tenant, now, signal) {
  const [{ servers }, { sessions }] = await Promise.all([
    api.get(adminPath`/tenants/${tenant}/servers`, undefined, signal),
    api.get(adminPath`/tenants/${tenant}/sessions`, undefined, signal),
  ]);
  const live = new Map();
  for (const s of sessions) live.set(s.server, (live.get(s.server) ?? 0) + 1);
  const rows = await Promise.all(
    servers.map(async (/** @type {{ name: string }} */ s) => topRow(s.name, await seriesOf(api, tenant, s.name, "1h", signal), live.get(s.name) ?? 0)),
  );
  return { tenant, at: now(), windowMinutes: WINDOW_STEPS, servers: rows };
}

/** @param {Awaited<ReturnType<typeof topFrame>>} frame */
function renderFrame(frame) {
  const ms = (/** @type {number | null} */ v) => (v === null ? "-" : String(v));
  const head = `smcp top ${frame.tenant}  ${clock(frame.at)}  (rates over the last ${frame.windowMinutes} minutes; Ctrl+C to stop)`;
  if (frame.servers.length === 0) return `${head}\n\ntenant ${frame.tenant} has no servers enabled`;
  return `${head}\n\n${table(
    ["SERVER", "SESSIONS", "REQ/MIN", "ERR%", "P50 MS", "P95 MS", "P99 MS"],
    frame.servers.map((r) => [
      r.server,
      r.sessions,
      r.requestsPerMinute === null ? "-" : r.requestsPerMinute.toFixed(1),
      r.errorRate === null ? "-" : (r.errorRate * 100).toFixed(1),
      ms(r.p50Ms),
      ms(r.p95Ms),
      ms(r.p99Ms),
    ]),
  )}`;
}

/** @type {Command} */
export const topCommand = {
  usage: "top <tenant> [--interval N] [--once]",
  summary: "live per-server rates (requests/min, error %, p50/p95/p99), redrawn every --interval seconds (default 2)",
  async run({ api, args, opts, out, now, interrupt }) {
    if (opts.once) {
      const frame = await topFrame(api, args.tenant, now);
      out.result(frame, renderFrame);
      return;
    }
    const signal = interrupt();
    const every = Math.max(1, opts.interval ?? 2) * 1000;
    while (!signal.aborted) {
      let frame;
      try {
        frame = await topFrame(api, args.tenant, now, signal);
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      // Under --json each frame is one line (for jq); for a person the screen is redrawn.
      out.line(out.json ? JSON.stringify(frame) : `${CLEAR}${renderFrame(frame)}`);
      await sleep(every, undefined, { signal }).catch(() => {});
    }
  },
};
