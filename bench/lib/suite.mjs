/**
 * The figures of one server, in an order that keeps them independent: the idle
 * footprint first (before load leaves garbage behind), then resume and many open
 * sessions, a task's round trip and a list change reaching many listeners on the
 * stateless lane (SMCP only), then throughput per tool and lane (search before add, so every search
 * scans the same seeded corpus), a deployed SDK server against the same tool built in
 * and an upstream called through the gateway against the same upstream called directly
 * (SMCP only), and session creation last (it leaves thousands of sessions behind).
 */
import { concurrentSessions } from "../figures/concurrency.mjs";
import { connectionCurve, idleAtScale, streamsAtScale } from "../figures/cost-curve.mjs";
import { deploy, firstUse, liveInstances, loadPair, retarget } from "../figures/deployed.mjs";
import { floorNewObjects, floorRoundTrip, floorThroughput } from "../figures/floor.mjs";
import { gatewayOverhead } from "../figures/gateway.mjs";
import { floorObject, idleFootprint, usedSession } from "../figures/footprint.mjs";
import { initializeRate } from "../figures/initialize.mjs";
import { listChangeFanOut } from "../figures/listen.mjs";
import { metricsCost } from "../figures/metrics-cost.mjs";
import { resumeLatency } from "../figures/resume.mjs";
import { taskRoundTrip } from "../figures/tasks.mjs";
import { tenantCeiling } from "../figures/tenant-ceiling.mjs";
import { seedNotes, toolsCallLoad } from "../figures/tools-call.mjs";
import { captureTemplates } from "./mcp-wire.mjs";
import { measured } from "./progress.mjs";
import { meanOfRuns } from "./report.mjs";

/**
 * The floor's own figures. The first run (`first`) measures all of them; the last, after
 * every server, only the round trip and throughput (the objects of the first are still there).
 * @param {import("./targets.mjs").Target} target
 */
export async function runFloorSuite(target, plan, { first = true } = {}) {
  const step = (name, run) => measured("floor", name, run, { quietMs: plan.quietMs, generation: target.generation });
  return {
    rtt: await step("round trip", () => floorRoundTrip(target, plan)),
    load: await step("throughput", () => floorThroughput(target, plan)),
    footprint: first && wanted(plan, "footprint") ? await step(`idle footprint, ${plan.idleSessions} objects`, () => idleFootprint(target, floorObject(target), plan, { jsHeap: true })) : undefined,
    // Last: it leaves thousands of objects behind, as the initialize figure does.
    newObjects: first && wanted(plan, "initialize") ? await step("throughput, a new object per request", () => floorNewObjects(target, plan)) : undefined,
  };
}

/**
 * Pairs a throughput figure with the floor (which keeps running, idle, beside every server):
 * a floor run just before the figure and one just after, whose mean is the figure's own
 * baseline (`floorPair`). This VM's speed drifts by a quarter within one bench run, so a ratio
 * of two runs minutes apart says more about the machine than the server; seconds apart, the
 * drift mostly cancels. Back-to-back figures share the run between them. Each floor run inserts
 * into an object of its own, so no run finds a bigger table than the first.
 * @param {{ floorLoad?: (object: string) => Promise<object> }} plan
 */
function floorPairing(plan) {
  if (!plan.floorLoad) return (run) => run();
  let last = null;
  let n = 0;
  const floorRun = () => plan.floorLoad(`pair-${Date.now().toString(36)}-${n++}`);
  return async (run) => {
    const before = last && Date.now() - last.at < 1000 ? last.load : await floorRun();
    const result = await run();
    const after = await floorRun();
    last = { at: Date.now(), load: after };
    return { ...result, floorPair: meanOfRuns([before, after]) };
  };
}

/** The figure groups `--only` names (all when it names none). */
export const FIGURE_GROUPS = ["footprint", "resume", "concurrency", "task", "listen", "calls", "deployed", "gateway", "metrics", "ceiling", "initialize"];

/** Whether the run measures figure group `name` (`pnpm bench --only calls,gateway`). */
const wanted = (plan, name) => !plan.only || plan.only.includes(name);

/** @param {import("./targets.mjs").Target} target */
export async function runMcpSuite(target, plan) {
  const captured = new Map();
  const templates = (tool, lane) => {
    const key = `${tool.url} ${lane}`;
    if (!captured.has(key)) captured.set(key, captureTemplates(tool.url, target.headers, lane, tool));
    return captured.get(key);
  };
  const step = (name, run) => measured(target.id, name, run, { quietMs: plan.quietMs, generation: target.generation });
  const { add, echo, trigger } = target.tools;
  const paired = floorPairing(plan);
  const results = { calls: {}, echoStandIn: echo.standIn ?? null };

  const want = (name) => wanted(plan, name);
  if (want("footprint")) results.footprint = await step(`idle footprint, ${plan.idleSessions} sessions used, then idle past the report interval`, async () => {
    const session = await templates(target.tools.streamed, "session");
    return idleFootprint(target, usedSession(target, session), plan, { jsHeap: true });
  });
  if (want("resume")) results.resume = await step(`resume ${plan.resumeEvents} events`, async () =>
    resumeLatency(trigger, await templates(trigger, "session"), plan),
  );
  if (want("concurrency")) results.concurrency = await step(`${plan.concurrentSessions} concurrent sessions`, async () =>
    concurrentSessions(echo, await templates(echo, "session"), plan),
  );
  if (target.taskTool && want("task")) {
    results.task = await step(`${plan.tasks} tasks one at a time · stateless`, async () =>
      taskRoundTrip(target.taskTool, await templates(trigger, "stateless"), plan),
    );
  }
  if (target.taskTool && want("listen")) {
    results.listen = await step(`a list change reaching ${plan.listeners} listeners · stateless`, async () =>
      listChangeFanOut(trigger, await templates(trigger, "stateless"), plan),
    );
  }
  for (const kind of want("calls") ? plan.kinds : []) {
    const tool = target.tools[kind];
    if (kind === "search") {
      await step(`seed ${plan.corpus} notes`, async () => {
        await seedNotes(add, await templates(add, "session"), plan.corpus);
        return { notes: plan.corpus };
      });
    }
    for (const lane of target.lanes) {
      results.calls[`${kind}/${lane}`] = await step(`tools/call ${tool.name} · ${lane}`, async () => {
        const captured = await templates(tool, lane);
        return paired(() => toolsCallLoad(tool, captured, plan, target.cpu));
      });
    }
  }
  if (target.metricsOff && want("metrics")) {
    results.metricsCost = await step(`metrics cost: tools/call ${echo.name}, recording on vs off, both lanes`, () => metricsCost(target, target.metricsOff, plan));
  }
  if (target.sdkServer && want("deployed")) results.deployed = await runDeployedSuite(target, plan, step, await templates(target.sdkServer.builtIn, "session"));
  if (target.gateway && want("gateway")) {
    results.gateway = await step(`tools/call test_simple_text through the gateway and direct, ${plan.gatewayCalls ?? plan.steadyCalls} each, interleaved one at a time`, () => gatewayOverhead(target, plan));
  }
  if (target.tenantCalls && want("ceiling")) {
    results.ceiling = await step(`per-tenant ceiling: ${plan.ceilingSessions} active sessions calling ${add.name} for ${plan.ceilingSeconds} s`, async () =>
      tenantCeiling(target, add, await templates(add, "session"), plan),
    );
  }
  if (want("initialize")) {
    results.initialize = await step("initialize rate", async () => {
      const captured = await templates(add, "session");
      return paired(() => initializeRate(captured, plan, target.cpu));
    });
  }
  return results;
}

/**
 * The deployed SDK server's figures, in the order their meaning needs: the deploy,
 * the first session after it (nothing may touch the new version before), the
 * memory of live instances (before load leaves garbage behind), then load.
 */
export async function runDeployedSuite(target, plan, step, builtInTemplates) {
  const { server, builtIn } = target.sdkServer;
  const deployed = await step(`deploy ${server} with smcp deploy`, () => deploy(target));
  if (deployed.error) return { deploy: deployed };
  const builtInPair = { tool: builtIn, templates: builtInTemplates };
  const deployedPair = { tool: { ...builtIn, url: deployed.url }, templates: retarget(builtInTemplates, deployed.url) };
  return {
    deploy: deployed,
    firstUse: await step("first session after the deploy", () => firstUse(deployedPair, builtInPair, plan)),
    instances: await step(`${plan.liveInstances} live instances against ${plan.liveInstances} built-in sessions`, () =>
      liveInstances(target, builtInPair, deployedPair, plan),
    ),
    calls: await step(`tools/call ${builtIn.name} · session, built in then deployed`, () => loadPair(target, builtInPair, deployedPair, plan)),
  };
}

/**
 * How SMCP's cost grows (`pnpm bench --curve`): load at each connection count first
 * (on a fresh runtime), then memory with many idle sessions, with many open GET streams,
 * and per live sandbox instance, each measured against the memory just before it.
 * @param {import("./targets.mjs").Target} target
 */
export async function runCurveSuite(target, plan) {
  const step = (name, run) => measured(target.id, name, run, { quietMs: plan.quietMs, generation: target.generation });
  const tool = target.tools.echo;
  const session = await captureTemplates(tool.url, target.headers, "session", tool);
  const stateless = await captureTemplates(tool.url, target.headers, "stateless", tool);
  const figures = { tool: tool.standIn?.split(":")[0] ?? tool.name };
  figures.connections = await step(`tools/call ${tool.name} at ${plan.curveConnections.join(", ")} connections, both lanes`, () =>
    connectionCurve(tool, { session, stateless }, plan, target.cpu),
  );
  figures.idle = await step(`${plan.curveIdleSessions} idle sessions`, () => idleAtScale(target, session, plan));
  figures.streams = await step(`${plan.curveStreamSessions} sessions with an open GET stream`, () => streamsAtScale(target, session, plan));
  figures.instances = await step(`${plan.liveInstances} live sandbox instances`, async () => {
    const deployed = await deploy(target);
    const { builtIn } = target.sdkServer;
    const builtInTemplates = await captureTemplates(builtIn.url, target.headers, "session", builtIn);
    return liveInstances(
      target,
      { tool: builtIn, templates: builtInTemplates },
      { tool: { ...builtIn, url: deployed.url }, templates: retarget(builtInTemplates, deployed.url) },
      plan,
    );
  });
  return figures;
}
