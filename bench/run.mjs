/**
 * `pnpm bench [--quick]`: SMCP's figures beside their baselines, measured in one run.
 *
 * Starts one server at a time (the machine has two cores; two servers under load
 * would measure each other), runs its figures, stops it: SMCP,
 * the SDK's Node server, the agents McpAgent (SMCP also gets an SDK server deployed
 * with `smcp deploy`, measured against the same tool built in, an upstream it fronts as a gateway
 * against the same upstream called directly, and a task's round trip and
 * a list change reaching many listeners on the 2026-07-28 lane). The floor Worker runs first
 * and stays up, idle, so each throughput figure is paired with floor runs seconds before and
 * after it (lib/suite.mjs). Then prints one table and writes
 * bench/results/latest.json. Whatever it started is stopped on every exit path,
 * including Ctrl-C. `--quick` runs the same figures shorter and smaller (about 2 min).
 * `--curve` measures how SMCP's cost grows instead (bench/figures/cost-curve.mjs); its
 * full run records bench/results/cost-curve.json and the README's table from it.
 * `--only calls,gateway` measures only those figure groups (FIGURE_GROUPS in lib/suite.mjs)
 * and skips the peers (add `--peers` to keep them): the floor still runs first and last,
 * so every ratio keeps its baseline from the same run. `--duration <s>` lengthens each load
 * window (a busy machine makes short ones noisy).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { progress } from "./lib/progress.mjs";
import { figureRows, meanOfRuns, noisyFigures, verdicts } from "./lib/report.mjs";
import { recordCostCurve, renderCostTable } from "./lib/cost-table.mjs";
import { floorThroughput } from "./figures/floor.mjs";
import { FIGURE_GROUPS, runCurveSuite, runFloorSuite, runMcpSuite } from "./lib/suite.mjs";
import { renderTable } from "./lib/table.mjs";
import { startAgentsPeer, startFloor, startNodePeer, startSmcp } from "./lib/targets.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const curve = process.argv.includes("--curve");

const PLANS = {
  quick: {
    connections: 8, duration: 2, warmup: 0.5, rttSamples: 100, kinds: ["add", "echo"], corpus: 50,
    resumeEvents: 100, resumeRounds: 1, idleSessions: 100, settleMs: 500, concurrentSessions: 50, quietMs: 0,
    liveInstances: 20, steadyCalls: 30, gatewayCalls: 300, freshSessions: 5, tasks: 20, listeners: 100, listenRounds: 3,
    ceilingSessions: 64, ceilingSeconds: 12,
  },
  full: {
    connections: 8, duration: 10, warmup: 3, rttSamples: 1000, kinds: ["search", "add", "echo"], corpus: 200,
    resumeEvents: 100, resumeRounds: 10, idleSessions: 200, settleMs: 1500, concurrentSessions: 1000, quietMs: 30_000,
    liveInstances: 100, steadyCalls: 500, gatewayCalls: 1000, freshSessions: 20, tasks: 200, listeners: 100, listenRounds: 10,
    ceilingSessions: 300, ceilingSeconds: 30,
  },
};
/** `--curve`: how cost grows with connections and held sessions (SMCP only; absolute figures). */
const CURVE_PLANS = {
  quick: { ...PLANS.quick, curveConnections: [1, 8, 64], curveIdleSessions: 500, curveStreamSessions: 100, liveInstances: 10 },
  full: { ...PLANS.full, quietMs: 0, curveConnections: [1, 8, 64], curveIdleSessions: 10_000, curveStreamSessions: 1_000, liveInstances: 100 },
};
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? "").split(",").filter(Boolean) : null;
const unknownGroups = only?.filter((g) => !FIGURE_GROUPS.includes(g)) ?? [];
if (only && (only.length === 0 || unknownGroups.length)) {
  process.stderr.write(`--only takes a comma-separated list of: ${FIGURE_GROUPS.join(", ")}${unknownGroups.length ? ` (not ${unknownGroups.join(", ")})` : ""}\n`);
  process.exit(2);
}
const withPeers = !only || process.argv.includes("--peers");
// `--duration <s>`: longer load windows than the plan's, for a machine whose other work makes short ones noisy.
const durationAt = process.argv.indexOf("--duration");
const duration = durationAt >= 0 ? Number(process.argv[durationAt + 1]) : undefined;
if (duration !== undefined && !(duration > 0)) {
  process.stderr.write("--duration takes seconds per load figure, a positive number\n");
  process.exit(2);
}
const plan = { ...(curve ? CURVE_PLANS : PLANS)[quick ? "quick" : "full"], ...(only ? { only } : {}), ...(duration ? { duration } : {}) };

for (const name of ["WRANGLER_SEND_METRICS", "CLOUDFLARE_CF_FETCH_ENABLED"]) process.env[name] = "false";

/** Servers started and not yet stopped. They run detached, so nothing else stops them. */
const running = new Set();
let interrupted = false;
async function stopAll() {
  const targets = [...running];
  running.clear();
  await Promise.allSettled(targets.map((t) => t.stop()));
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.exitCode = 130;
    progress("bench", `${signal}: stopping the servers`);
    void stopAll(); // the figure in flight fails fast; main() stops at the next server
  });
}
for (const event of ["uncaughtException", "unhandledRejection"]) {
  process.on(event, (err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    void stopAll().finally(() => process.exit(1));
  });
}

/**
 * The servers, one at a time. The floor starts first and keeps running, idle, until the end:
 * its own figures run first and last (a machine that got busier in between shows in their
 * spread), and each server's throughput figures are paired with floor runs just before and
 * after them (lib/suite.mjs).
 */
const SEQUENCE = [
  [startSmcp, (t) => runMcpSuite(t, plan)],
  ...(withPeers ? [[startNodePeer, (t) => runMcpSuite(t, plan)], [startAgentsPeer, (t) => runMcpSuite(t, plan)]] : []),
];

/** `--curve`: SMCP alone; the full run records its figures and the README's table from them. */
async function curveMain() {
  const date = new Date().toISOString();
  const loadAtStart = os.loadavg()[0];
  progress("bench", `cost curve, ${quick ? "quick (not recorded)" : "full"} run: ${plan.curveConnections.join("/")} connections, ${plan.curveIdleSessions} idle sessions, ${plan.curveStreamSessions} GET streams, ${plan.liveInstances} instances`);
  const target = await startSmcp();
  running.add(target);
  let figures;
  try {
    figures = await runCurveSuite(target, plan);
  } finally {
    running.delete(target);
    await target.stop();
  }
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryBytes: os.totalmem(), node: process.version, loadAverage: [loadAtStart, os.loadavg()[0]] };
  const result = { date, mode: quick ? "quick" : "full", machine, plan, figures };
  process.stdout.write(`\n${renderCostTable(result)}\n`);
  if (quick) return;
  recordCostCurve(result);
  progress("bench", "wrote bench/results/cost-curve.json and the README's cost-curve table");
}

async function main() {
  if (curve) return curveMain();
  const startedAt = new Date().toISOString();
  progress("bench", `${quick ? "quick" : "full"} run: ${plan.connections} connections, ${plan.duration} s per load figure${only ? `; only ${only.join(", ")}` : ""}`);
  const results = { floorRuns: [] };
  const floor = await startFloor();
  running.add(floor);
  if (interrupted) return;
  progress("floor", `started on ${floor.url}; it keeps running beside every server`);
  try {
    results.floorRuns.push(await runFloorSuite(floor, plan));
    plan.floorLoad = (object) => floorThroughput(floor, { ...plan, warmup: 0 }, object);
    for (const [start, suite] of SEQUENCE) {
      if (interrupted) return;
      const target = await start();
      running.add(target);
      if (interrupted) return;
      progress(target.id, `started on ${target.url}`);
      try {
        results[target.id] = await suite(target);
      } finally {
        running.delete(target);
        await target.stop();
      }
    }
    if (interrupted) return;
    results.floorRuns.push(await runFloorSuite(floor, plan, { first: false }));
  } finally {
    delete plan.floorLoad;
    running.delete(floor);
    await floor.stop();
  }
  results.floor = meanOfRuns(results.floorRuns);

  const rows = figureRows(results, plan);
  const targets = verdicts(rows);
  const notes = [
    "req/s over the measured window; p50/p99 per request in ms; ratios are SMCP's value over the other's.",
    `Every server ran alone on this ${os.cpus().length}-core machine, autocannon with ${plan.connections} connections; session lane = one session per connection.`,
    "SMCP authenticates every request with a tenant key; the peers have no authentication.",
    `floor = mean of a run before and after the servers: ${results.floorRuns.map((r) => `${r.load?.rps?.toFixed(0)} req/s, RTT ${r.rtt?.p50?.toFixed(2)} ms`).join(" / ")}.`,
    "tools/call, CPU and initialize rows: the floor column is SMCP's own floor pair (the floor measured just before and just after that figure, the floor running idle beside every server); SMCP/floor divides by it, and SMCP/peer compares each server's share of its own pair, so the machine's drift between servers cancels.",
  ];
  const noisy = noisyFigures(results);
  if (noisy.length) notes.push(`NOISE: other processes kept cores busy during: ${noisy.join(", ")}; rerun those on a quiet machine.`);
  if (results.smcp?.echoStandIn) notes.push(`* SMCP has no echo tool: its row uses ${results.smcp.echoStandIn.split(":")[0]} (no input, static text).`);
  if (results.smcp?.deployed) {
    notes.push(
      `deployed rows: ${results.smcp.deployed.deploy?.url?.split("/").pop() ?? "the server"} is bench/peers/deployed/static-text.mjs, deployed with \`smcp deploy\`; each session runs its own instance in a Worker Loader isolate. Their baseline (the same tool built in, everything/test_simple_text, measured just before; or the floor round trip) is in the floor column, their ratio to it under SMCP/floor.`,
    );
  }
  if (results.smcp?.task || results.smcp?.listen) {
    notes.push(
      "task and listen rows (2026-07-28, stateless lane, SMCP only): a task is timed from its tools/call to the back-to-back tasks/get that says completed, one task at a time; a list change from the tools/call that publishes it (everything/test_trigger_tool_change) to each listener's notification, p50 = median listener, all = the last one (each the median over the changes); SMCP/floor divides the task p50 and the all-reached time by the floor round trip.",
    );
  }
  if (results.smcp?.gateway) {
    notes.push(
      `gateway row: bench/peers/upstream (the SDK v2 on Node, no event store, the static test_simple_text) called one call at a time directly and through SMCP (an upstream server of the bench tenant), interleaved call by call with the first side alternating, after a warm-up; the difference of the p50s (of ${plan.gatewayCalls} calls each), over the floor round trip under SMCP/floor.`,
    );
  }
  const table = renderTable(rows, targets, notes);
  process.stdout.write(`\n${table}\n`);

  // A partial run must not replace the full figures the README's tables come from.
  const file = path.join(HERE, only ? "results/partial.json" : "results/latest.json");
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt,
        finishedAt: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryBytes: os.totalmem(), node: process.version },
        plan,
        results,
        figures: rows,
        targets,
        table,
      },
      null,
      2,
    )}\n`,
  );
  progress("bench", `wrote ${path.relative(process.cwd(), file)}`);
}

main()
  .catch(async (err) => {
    process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
