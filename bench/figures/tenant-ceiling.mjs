/**
 * The per-tenant ceiling (issue 18 item 8): many sessions of one tenant, all of them
 * active, calling `add_note` (tool data: every call goes through the tenant object) as
 * fast as `plan.connections` clients can for a window longer than the report interval.
 * Measured:
 * - report calls the tenant object received per active session per second, from
 *   `GET /admin/v1/health` (`reports.tenantCalls`, counted by the tenant object itself)
 *   before and after the window. A session reports every 5 s while active, so straight to
 *   the tenant this is 0.2; through `SMCP_REPORT_SHARDS` report shards it is
 *   shards / 5 s / sessions (target ≤ 0.02, i.e. 50,000 active sessions under 1,000 calls/s);
 * - the tool-data throughput the tenant reached meanwhile (add_note calls/s), with p50/p99.
 * The window is read again after a settle of two report intervals, so reports of the
 * window that arrive late are counted too (they are the window's calls).
 * The plan's session count is what 8 clients on the bench machine keep active in every
 * 5 s interval (a session called less often than that reports less often, and one idle
 * past 5 s is rebuilt at its next call, which then measures the rebuild, not the tenant).
 */
import { percentile } from "../lib/load.mjs";
import { callTool, openSession } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";

const REPORT_INTERVAL_MS = 5_000;

/**
 * @param {import("../lib/targets.mjs").Target} target
 * @param {{ url: string, name: string, args: object }} tool  add_note
 */
export async function tenantCeiling(target, tool, templates, plan) {
  const sessions = await pool(plan.ceilingSessions, 8, () => openSession(templates));
  // Every session made its first report (its initialize) before the window opens.
  await new Promise((r) => setTimeout(r, 2 * REPORT_INTERVAL_MS));
  const before = await target.tenantCalls();
  const latencies = [];
  let failures = 0;
  let next = 0;
  let id = 1;
  const started = performance.now();
  const end = started + plan.ceilingSeconds * 1000;
  await Promise.all(
    Array.from({ length: plan.connections }, async () => {
      while (performance.now() < end) {
        // Round-robin over the sessions: each one is active in every report interval.
        const sessionId = sessions[next++ % sessions.length];
        const t0 = performance.now();
        try {
          await callTool(templates, sessionId, id++, tool);
          latencies.push(performance.now() - t0);
        } catch {
          failures++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2 * REPORT_INTERVAL_MS));
  const after = await target.tenantCalls();
  // The settle adds its own seconds in which the sessions' last reports and the shards' flushes arrive.
  const window = seconds + (2 * REPORT_INTERVAL_MS) / 1000;
  const calls = after - before;
  latencies.sort((a, b) => a - b);
  return {
    sessions: sessions.length,
    seconds,
    tenantCalls: calls,
    callsPerSecond: calls / window,
    callsPerSessionPerSecond: calls / (sessions.length * window),
    toolCalls: latencies.length,
    failures,
    errors: failures,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}
