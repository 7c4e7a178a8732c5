/**
 * What recording metrics costs a `tools/call` (issue 16: at most 5 % of its CPU): the
 * runtime CPU per call of the static tool on both lanes with recording on (the SMCP
 * under test) against a second SMCP started with `SMCP_METRICS_RECORDING=off`, in
 * alternating rounds on the same machine so that drift in its load hits both alike.
 * Only the two servers' own workerd processes are counted (`cpu().runtime`), and each
 * server is idle while the other is measured.
 */
import { captureTemplates } from "../lib/mcp-wire.mjs";
import { toolsCallLoad } from "./tools-call.mjs";

const ROUNDS = 4;

/**
 * @param {import("../lib/targets.mjs").Target} on  SMCP as deployed (recording on)
 * @param {() => Promise<import("../lib/targets.mjs").Target>} startOff  SMCP with recording off
 */
export async function metricsCost(on, startOff, plan) {
  const off = await startOff();
  try {
    const round = { ...plan, duration: Math.max(2, plan.duration / ROUNDS), warmup: Math.max(0.5, plan.warmup / ROUNDS) };
    const lanes = {};
    for (const lane of ["session", "stateless"]) {
      const sides = { on: { target: on }, off: { target: off } };
      for (const side of Object.values(sides)) {
        side.templates = await captureTemplates(side.target.tools.echo.url, side.target.headers, lane, side.target.tools.echo);
        side.cpuMs = 0;
        side.requests = 0;
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const side of r % 2 === 0 ? [sides.on, sides.off] : [sides.off, sides.on]) {
          const load = await toolsCallLoad(side.target.tools.echo, side.templates, round, side.target.cpu);
          // A round that completed nothing (a stall of the machine) says nothing about CPU per call.
          if (load.requests > 0 && Number.isFinite(load.cpuMsPerRequest)) {
            side.cpuMs += load.cpuMsPerRequest * load.requests;
            side.requests += load.requests;
          }
        }
      }
      if (sides.on.requests === 0 || sides.off.requests === 0) throw new Error(`no ${lane} call completed on one of the two servers`);
      const perCall = (side) => side.cpuMs / side.requests;
      lanes[lane] = { onMs: perCall(sides.on), offMs: perCall(sides.off), ratio: perCall(sides.on) / perCall(sides.off), calls: sides.on.requests + sides.off.requests };
    }
    return { tool: on.tools.echo.name, lanes };
  } finally {
    await off.stop();
  }
}
