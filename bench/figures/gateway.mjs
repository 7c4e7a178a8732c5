/**
 * The gateway's added latency: `tools/call` of a static tool (`test_simple_text`) on
 * a loopback SDK v2 server (bench/peers/upstream, no event store), called directly
 * and through SMCP as an upstream server of the bench tenant, one call at a time on
 * one session each. The two sides are interleaved call by call, and which of them goes
 * first alternates, so a machine that gets busier (other processes on these 2 cores)
 * weighs on both alike. The figure is the difference of the p50s over all
 * `plan.gatewayCalls` calls of each side, reported in floor round trips (issue 14: at
 * most 2); the calls are counted in ROUNDS blocks whose own differences are reported
 * too (`blocks`), so the noise of a run is visible beside its figure. Through SMCP a
 * call is the client's leg (Worker, session object) plus the upstream's own POST from
 * the session object.
 */
import { percentile } from "../lib/load.mjs";
import { callTool, captureTemplates, openSession } from "../lib/mcp-wire.mjs";

const TOOL = { name: "test_simple_text", args: {} };
/** Calls before the measured ones, on each side: connections, caches and JIT warm. */
const WARMUP = 30;
const ROUNDS = 5;

/** @param {import("../lib/targets.mjs").Target} target */
export async function gatewayOverhead(target, plan) {
  const calls = plan.gatewayCalls ?? plan.steadyCalls;
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
    for (let i = 0; i < WARMUP + calls; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const t0 = performance.now();
        await callTool(side.templates, side.session, id++, side.tool);
        if (i >= WARMUP) side.took.push(performance.now() - t0);
      }
    }
    const [d, g] = sides.map((s) => ({ p50: percentile(s.took, 0.5), p99: percentile(s.took, 0.99) }));
    const per = Math.floor(calls / ROUNDS);
    const blocks = Array.from({ length: ROUNDS }, (_, r) => {
      const block = (s) => s.took.slice(r * per, (r + 1) * per);
      return percentile(block(sides[1]), 0.5) - percentile(block(sides[0]), 0.5);
    });
    return { direct: d, gateway: g, addedP50: g.p50 - d.p50, calls, blocks };
  } finally {
    await upstream.stop();
  }
}
