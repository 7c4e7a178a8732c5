/**
 * The gateway's added latency: `tools/call` of a static tool (`test_simple_text`) on
 * a loopback SDK v2 server (bench/peers/upstream, no event store), called directly
 * and through SMCP as an upstream server of the bench tenant, one call at a time on
 * one session each, the two interleaved so a machine that gets busier weighs on both.
 * The figure is the difference of the p50s, reported in floor round trips (issue 14:
 * at most 2). Through SMCP a call is the client's leg (Worker, session object, its
 * event log) plus the upstream's own POST from the session object.
 */
import { percentile } from "../lib/load.mjs";
import { callTool, captureTemplates, openSession } from "../lib/mcp-wire.mjs";

const TOOL = { name: "test_simple_text", args: {} };
/** Calls before the measured ones, on each side: connections and code paths warm. */
const WARMUP = 10;

/** @param {import("../lib/targets.mjs").Target} target */
export async function gatewayOverhead(target, plan) {
  const upstream = await target.gateway.start();
  try {
    const direct = { ...TOOL, url: upstream.mcpUrl };
    const through = { ...TOOL, url: await target.gateway.front(upstream.mcpUrl) };
    const sides = [
      { tool: direct, templates: await captureTemplates(direct.url, {}, "session", direct), took: [] },
      { tool: through, templates: await captureTemplates(through.url, target.headers, "session", through), took: [] },
    ];
    for (const side of sides) side.session = await openSession(side.templates);
    let id = 1;
    for (let i = 0; i < WARMUP + plan.steadyCalls; i++) {
      for (const side of sides) {
        const t0 = performance.now();
        await callTool(side.templates, side.session, id++, side.tool);
        if (i >= WARMUP) side.took.push(performance.now() - t0);
      }
    }
    const [d, g] = sides.map((s) => ({ p50: percentile(s.took, 0.5), p99: percentile(s.took, 0.99) }));
    return { direct: d, gateway: g, addedP50: g.p50 - d.p50, calls: plan.steadyCalls };
  } finally {
    await upstream.stop();
  }
}
