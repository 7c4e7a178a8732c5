/**
 * A deployed SDK server beside the same tool built in, on SMCP's session lane.
 *
 * The server is bench/peers/deployed/static-text.mjs, deployed with the real CLI
 * (`smcp deploy`); its one tool answers as the built-in `everything` server's
 * `test_simple_text`. Each session of it runs its own instance in a Worker Loader
 * isolate, started by the session's first message (`initialize`), so:
 *
 * - first use after deploy: the first session opened right after the deploy (its
 *   `initialize` starts the first instance of the new version), its first
 *   `tools/call`, then calls one at a time on that warm instance (the steady p50,
 *   beside the same on a built-in session); a few more fresh sessions show the
 *   instance start once the version is warm;
 * - live instances: resident memory per session of the deployed server, each with
 *   one call made (so each holds a live instance), against the same for the
 *   built-in server, measured the way the idle footprint figure measures it;
 * - load: the tools-call figure's machinery, built in then deployed, back to back.
 *
 * The deployed server's requests are the SDK client's requests captured on the
 * built-in server with the URL swapped: capturing on the deployed one would open the
 * session the first-use figure must open.
 */
import { percentile } from "../lib/load.mjs";
import { callTool, openSession } from "../lib/mcp-wire.mjs";
import { idleFootprint } from "./footprint.mjs";
import { toolsCallLoad } from "./tools-call.mjs";

/** The deployed server's templates: the built-in server's, sent to another URL. */
export const retarget = (templates, url) => ({ ...templates, url });

/**
 * Deploys the target's SDK server file with `smcp deploy` and times it (bundle, upload, health check).
 * @param {import("../lib/targets.mjs").Target} target
 */
export async function deploy(target) {
  const { server, file } = target.sdkServer;
  const t0 = performance.now();
  const { url, printed } = await target.sdkServer.deploy(server, file);
  const version = /version (\d+)/.exec(printed)?.[1];
  return { url, version: version ? Number(version) : null, deployMs: performance.now() - t0 };
}

/** `count` calls one at a time on one session; their p50 and p99. */
async function oneAtATime(templates, sessionId, tool, count) {
  const took = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await callTool(templates, sessionId, i + 2, tool);
    took.push(performance.now() - t0);
  }
  return { p50: percentile(took, 0.5), p99: percentile(took, 0.99), calls: took.length };
}

/**
 * The first session after a deploy, its first call and its steady calls; then
 * `plan.freshSessions` more fresh sessions, each opened and called once in turn;
 * then the steady calls on a session of the built-in server, for comparison.
 * @param {{ templates: object, tool: import("../lib/targets.mjs").ToolRef }} deployed
 * @param {{ templates: object, tool: import("../lib/targets.mjs").ToolRef }} builtIn
 */
export async function firstUse(deployed, builtIn, plan) {
  const { templates, tool } = deployed;
  const t0 = performance.now();
  const sessionId = await openSession(templates);
  const t1 = performance.now();
  await callTool(templates, sessionId, 1, tool);
  const t2 = performance.now();
  const steady = await oneAtATime(templates, sessionId, tool, plan.steadyCalls);
  const fresh = [];
  for (let i = 0; i < plan.freshSessions; i++) {
    const s = performance.now();
    const id = await openSession(templates);
    await callTool(templates, id, 1, tool);
    fresh.push(performance.now() - s);
  }
  const builtInSession = await openSession(builtIn.templates);
  await callTool(builtIn.templates, builtInSession, 1, builtIn.tool);
  return {
    initializeMs: t1 - t0,
    firstCallMs: t2 - t1,
    firstUseMs: t2 - t0,
    steady,
    builtInSteady: await oneAtATime(builtIn.templates, builtInSession, builtIn.tool, plan.steadyCalls),
    freshSession: { p50: percentile(fresh, 0.5), sessions: fresh.length },
  };
}

/**
 * Resident memory per session with one call made, built in and deployed.
 * @param {import("../lib/targets.mjs").Target} target
 * @param {{ templates: object, tool: import("../lib/targets.mjs").ToolRef }} builtIn
 * @param {{ templates: object, tool: import("../lib/targets.mjs").ToolRef }} deployed
 */
export async function liveInstances(target, builtIn, deployed, plan) {
  const calledOnce = ({ templates, tool }) => async () => {
    const sessionId = await openSession(templates);
    await callTool(templates, sessionId, 1, tool);
    return sessionId;
  };
  const sized = { ...plan, idleSessions: plan.liveInstances };
  const a = await idleFootprint(target, calledOnce(builtIn), sized);
  const b = await idleFootprint(target, calledOnce(deployed), sized);
  return {
    sessions: plan.liveInstances,
    builtInRssBytesPerSession: a.rssBytesPerSession,
    rssBytesPerSession: b.rssBytesPerSession,
    rssBytesPerInstance: b.rssBytesPerSession - a.rssBytesPerSession,
  };
}

/** The tools-call figure on the session lane, built in then deployed. */
export async function loadPair(target, builtIn, deployed, plan) {
  const builtInLoad = await toolsCallLoad(builtIn.tool, builtIn.templates, plan, target.cpu);
  const deployedLoad = await toolsCallLoad(deployed.tool, deployed.templates, plan, target.cpu);
  return { builtIn: builtInLoad, deployed: deployedLoad };
}
