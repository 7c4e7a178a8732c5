/**
 * How SMCP's cost grows: throughput and p99 of a static `tools/call` at 1, 8 and 64
 * connections on both lanes; resident memory and SQLite per session with many sessions
 * idle (initialized, nothing else) and with many holding their standalone GET stream;
 * resident memory per live sandbox instance of a deployed SDK server.
 *
 * These are absolute figures of one machine, so `pnpm bench --curve` writes them with
 * their date and machine to bench/results/cost-curve.json, which the README's table is
 * rendered from (bench/lib/cost-table.mjs).
 */
import { openSession, openStream } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";
import { idleFootprint } from "./footprint.mjs";
import { toolsCallLoad } from "./tools-call.mjs";

const settle = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One load figure per connection count and lane.
 * @param {import("../lib/targets.mjs").ToolRef} tool
 * @param {Record<string, object>} templatesByLane  captured requests per lane
 */
export async function connectionCurve(tool, templatesByLane, plan, cpu) {
  const points = [];
  for (const connections of plan.curveConnections) {
    const point = { connections };
    for (const [lane, templates] of Object.entries(templatesByLane)) {
      const { rps, p50, p99, errors, cpuMsPerRequest } = await toolsCallLoad(tool, templates, { ...plan, connections }, cpu);
      point[lane] = { rps, p50, p99, errors, cpuMsPerRequest };
    }
    points.push(point);
  }
  return { points };
}

/** Memory and SQLite per session with `plan.curveIdleSessions` initialized sessions doing nothing. */
export async function idleAtScale(target, sessionTemplates, plan) {
  const footprint = await idleFootprint(target, () => openSession(sessionTemplates), { ...plan, idleSessions: plan.curveIdleSessions });
  return { sessions: footprint.sessions, rssBytesPerSession: footprint.rssBytesPerSession, sqliteBytesPerSession: footprint.sqliteBytesPerSession };
}

/**
 * Memory per session with `plan.curveStreamSessions` sessions each holding its GET
 * stream open (the stream of an SSE client waiting for server-initiated messages).
 * A stream the server closed before the end is counted as a failure.
 * Both readings follow a full collection (the heap snapshot's): this figure runs after
 * the idle one, whose sessions drop their SDK objects meanwhile, and their garbage
 * collected between the readings made the difference negative (-6 KB on 2026-12-03).
 */
export async function streamsAtScale(target, sessionTemplates, plan) {
  const n = plan.curveStreamSessions;
  const controller = new AbortController();
  await settle(plan.settleMs);
  await target.jsHeap?.();
  const rssBefore = target.rss();
  let closedEarly = 0;
  let failed = 0;
  const held = await pool(n, 16, async () => {
    try {
      const sessionId = await openSession(sessionTemplates);
      const stream = await openStream(sessionTemplates, sessionId, { signal: controller.signal });
      if (!stream.ok) throw new Error(`GET answered ${stream.status}`);
      (async () => {
        for await (const _chunk of stream.body) {
        }
      })()
        .catch(() => {})
        .then(() => {
          if (!controller.signal.aborted) closedEarly++;
        });
      return true;
    } catch {
      failed++;
      return false;
    }
  });
  await settle(2 * plan.settleMs);
  await target.jsHeap?.();
  const rssAfter = target.rss();
  const open = held.filter(Boolean).length - closedEarly;
  controller.abort();
  return { sessions: n, open, failed: failed + closedEarly, rssBytesPerSession: (rssAfter - rssBefore) / Math.max(1, open) };
}
