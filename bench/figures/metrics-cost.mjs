/**
 * What recording metrics costs a `tools/call` (issue 16: at most 5 % of its CPU): the
 * runtime CPU per call of the static tool on both lanes with recording on (the SMCP
 * under test) against a second SMCP started with `SMCP_METRICS_RECORDING=off`, in
 * alternating rounds on the same machine so that drift in its load hits both alike.
 * Only the two servers' own workerd processes are counted (`cpu().runtime`), and each
 * server is idle while the other is measured.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { captureTemplates } from "../lib/mcp-wire.mjs";
import { toolsCallLoad } from "./tools-call.mjs";

const ROUNDS = 4;
const DELTA_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../workers/smcp/src/metrics/delta.ts");

/**
 * The recording itself, alone, in this process: what a session does per answered request
 * (count it into the open delta, then serialise the request-count record it writes anyway,
 * now with the delta in it), in µs per request. Steadier than the difference of two loaded
 * servers, it bounds the cost from below; the servers' difference includes everything.
 */
export async function recordingMicros() {
  const dir = mkdtempSync(path.join(tmpdir(), "smcp-bench-delta-"));
  try {
    const out = path.join(dir, "delta.mjs");
    await build({ entryPoints: [DELTA_MODULE], bundle: true, format: "esm", platform: "neutral", outfile: out, logLevel: "silent" });
    const { record } = await import(pathToFileURL(out).href);
    const tools = ["add_note", "list_notes", "search_notes", "delete_note"];
    const run = (n) => {
      const counts = { requests: 0, errors: 0, metrics: { open: {}, sent: [] } };
      const t0 = process.hrtime.bigint();
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        record(counts.metrics.open, Date.now(), "tools/call", tools[i % tools.length], i % 50 === 0 ? "tool" : null, i % 97);
        counts.requests++;
        bytes += JSON.stringify(counts).length;
        // A report every 5 s takes the open delta: a busy session holds a minute or two of it.
        if (i % 500 === 499) counts.metrics.open = {};
      }
      const withMetrics = Number(process.hrtime.bigint() - t0) / 1000 / n;
      const plain = { requests: 0, errors: 0 };
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        plain.requests++;
        bytes += JSON.stringify(plain).length;
      }
      return { micros: withMetrics - Number(process.hrtime.bigint() - t1) / 1000 / n, bytes };
    };
    run(20_000); // warm-up
    return run(200_000).micros;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    return { tool: on.tools.echo.name, lanes, recordingUs: await recordingMicros() };
  } finally {
    await off.stop();
  }
}
