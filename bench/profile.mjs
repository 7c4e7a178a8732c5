/**
 * `node bench/profile.mjs [--lane session|stateless] [--tool add|echo|search|gateway] [--initialize] [--seconds 10] [--config wrangler.jsonc]`
 *
 * Where SMCP's CPU goes on one `tools/call` path: starts SMCP on `wrangler dev`,
 * drives the SDK client's request with autocannon (as `pnpm bench` does) while
 * workerd's V8 profiler samples the worker and its Durable Objects, then prints the
 * functions with the most self and inclusive time and writes the profile to
 * bench/results/profile-<lane>-<tool>.cpuprofile.json (open it in Chrome DevTools).
 * `--tool gateway` is the gateway figure's call: test_simple_text of bench/peers/upstream
 * (started here) through SMCP as an upstream server.
 * `--initialize` drives the initialize figure's request instead (a new session each time).
 * A diagnostic, not a figure: sampling slows the server down.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { initializeRate } from "./figures/initialize.mjs";
import { toolsCallLoad } from "./figures/tools-call.mjs";
import { profileWhile, summarize } from "./lib/cpu-profile.mjs";
import { findInspector } from "./lib/inspector.mjs";
import { captureTemplates } from "./lib/mcp-wire.mjs";
import { waitForQuiet } from "./lib/processes.mjs";
import { progress } from "./lib/progress.mjs";
import { describeFigure } from "./lib/report.mjs";
import { startSmcp } from "./lib/targets.mjs";

const { values } = parseArgs({
  options: {
    lane: { type: "string", default: "session" },
    tool: { type: "string", default: "add" },
    seconds: { type: "string", default: "10" },
    config: { type: "string", default: "wrangler.jsonc" },
    initialize: { type: "boolean", default: false },
  },
});
const plan = { connections: 8, duration: Number(values.seconds), warmup: 0 };

const target = await startSmcp({ config: values.config });
const upstream = values.tool === "gateway" ? await target.gateway.start() : null;
const stop = async () => {
  await upstream?.stop();
  await target.stop();
};
process.on("SIGINT", () => void stop().finally(() => process.exit(130)));
try {
  const tool = upstream ? { url: await target.gateway.front(upstream.mcpUrl), name: "test_simple_text", args: {} } : target.tools[values.tool];
  const templates = await captureTemplates(tool.url, target.headers, values.lane, tool);
  const load = values.initialize ? (p, cpu) => initializeRate(templates, p, cpu) : (p, cpu) => toolsCallLoad(tool, templates, p, cpu);
  progress("profile", `warm-up: ${values.initialize ? "initialize" : `tools/call ${tool.name}`} · ${values.lane}`);
  await load({ ...plan, duration: 2 });
  await waitForQuiet(30_000);
  const inspector = await findInspector(target.pid);
  progress("profile", `profiling ${plan.duration} s through ${inspector}`);
  const { profile, result } = await profileWhile(inspector, () => load(plan, target.cpu));
  progress("profile", describeFigure(result));

  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `results/profile-${values.lane}-${values.initialize ? "initialize" : values.tool}.cpuprofile.json`);
  writeFileSync(file, JSON.stringify(profile));
  const { totalMs, self, inclusive } = summarize(profile);
  const perCall = (ms) => `${(ms / result.requests).toFixed(3)} ms/call`;
  const show = (title, list, n) => {
    console.log(`\n${title} (of ${totalMs.toFixed(0)} ms sampled, ${result.requests} calls)`);
    for (const { fn, ms } of list.slice(0, n)) console.log(`  ${((ms / totalMs) * 100).toFixed(1).padStart(5)}%  ${perCall(ms).padStart(15)}  ${fn}`);
  };
  show("self time", self, 30);
  show("inclusive time", inclusive, 60);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
} finally {
  await stop();
}
