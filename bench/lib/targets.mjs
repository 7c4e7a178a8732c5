/**
 * The servers under test, each started the way its users would run it and
 * described by one shape (`Target`), so the figures never ask which one they drive:
 *
 * - floor   bench/floor on `wrangler dev` (Worker -> Durable Object -> SQLite insert)
 * - smcp    this repository's wrangler.jsonc on `wrangler dev`, one provisioned tenant;
 *           `sdkServer.deploy()` deploys an SDK server file to it with the real `smcp deploy`
 * - node    the SDK's Node Streamable HTTP server (bench/peers/node) on Node 22
 * - agents  the `agents` McpAgent (bench/peers/agents) on `wrangler dev`
 *
 * `generation()` names the runtime process (it changes when wrangler restarts it),
 * `rss()` is the resident memory of the runtime, `cpu()` counts CPU seconds of the runtime (workerd running the worker and its
 * Durable Objects, or the Node process) and in total (with wrangler's proxy
 * workerd and its Node process, which a deployed Worker does not pay for).
 *
 * Every process is started detached in its own group and stopped by `target.stop()`
 * (the orchestrator stops whatever is still running on any exit). Each target gets
 * its own fresh state directory, removed on stop.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { ROOT, freePort, startWrangler, stopWrangler } from "../../scripts/lib/wrangler.mjs";
import { adminClient, provisionTenant } from "../../scripts/lib/admin-client.mjs";
import { cpuSeconds, descendants, rssBytes, runtimePids } from "./processes.mjs";
import { findInspector } from "./inspector.mjs";
import { jsHeapBytes } from "./js-heap.mjs";

const ADMIN_TOKEN = "bench-admin-token";
/**
 * The bench opens thousands of sessions and sends thousands of requests a second
 * from one tenant; the per-tenant quotas are raised out of the way (their checks
 * still run on every request, so their cost stays in the figures).
 */
const SMCP_VARS = {
  SMCP_ADMIN_TOKEN: ADMIN_TOKEN,
  SMCP_DEFAULT_REQUESTS_PER_SECOND: "100000",
  SMCP_DEFAULT_MAX_SESSIONS: "1000000",
  SMCP_MAX_INSTANCES_PER_TENANT: "1000000",
  SMCP_MAX_TASKS_PER_TENANT: "1000000", // finished tasks count until they expire
  SMCP_MAX_LISTEN_STREAMS_PER_TENANT: "1000",
  // The gateway figure's upstream runs on this machine (bench/peers/upstream).
  SMCP_ALLOW_LOOPBACK_EGRESS: "true",
  // `BENCH_REPORT_SHARDS=0 pnpm bench --only ceiling` measures the per-tenant ceiling without report shards, for comparison.
  ...(process.env.BENCH_REPORT_SHARDS ? { SMCP_REPORT_SHARDS: process.env.BENCH_REPORT_SHARDS } : {}),
};
const TENANT = "bench";

/**
 * Three things `wrangler dev` does for a person at a terminal, per log line or request, that a
 * deployed Worker never pays for; every wrangler target of the bench (floor, SMCP, McpAgent)
 * runs without them, so no figure charges the dev tool's bookkeeping to the server under test.
 * Measured on the floor with one 300-byte `console.log` added per request: 0.36-0.44x its
 * throughput with all three, no measurable cost without them (README, Performance).
 * - `X_LOCAL_OBSERVABILITY=false`: miniflare's local trace collector, which stores every
 *   request's spans and log lines in a SQLite Durable Object of its own;
 * - `WRANGLER_WRITE_LOGS=false`: wrangler's debug log file (set for every non-interactive
 *   wrangler, scripts/lib/wrangler.mjs);
 * - `VSCODE_INSPECTOR_OPTIONS`: wrangler's DevTools console relay (each `console.*` call goes
 *   from workerd's inspector through a proxy worker and a loopback request to wrangler's
 *   terminal logger). wrangler turns the relay off when it finds this variable (it runs
 *   inside a VS Code debug terminal then) and has no flag for it; workerd's own inspector
 *   stays open, and the heap and CPU figures read that one (lib/inspector.mjs).
 */
const BENCH_WRANGLER_ENV = { X_LOCAL_OBSERVABILITY: "false", VSCODE_INSPECTOR_OPTIONS: "{}" };

/** The arguments every target's tools are called with. */
export const TOOL_ARGS = {
  add: { title: "bench", body: "a note written by pnpm bench" },
  search: { query: "needle" },
  echo: { text: "hello from pnpm bench" },
  trigger: {},
  streamed: {},
};

/**
 * @typedef {{ url: string, name: string, args: object, standIn?: string }} ToolRef
 * @typedef {{ server: string, file: string, builtIn: ToolRef,
 *   deploy: (server: string, file: string) => Promise<{ url: string, printed: string }> }} SdkServerRef
 *   the SDK server file SMCP's target deploys with `smcp deploy`, and the built-in tool it is measured against;
 *   `taskTool` is a tool that runs as a task (2026-07-28 Tasks extension) on the server of `tools.trigger`
 * @typedef {{
 *   id: string, label: string, url: string, headers: Record<string, string>,
 *   lanes: string[], tools: Record<"add" | "search" | "echo" | "trigger" | "streamed", ToolRef> | null,
 *   pid: number, rss: () => number, jsHeap?: () => Promise<number | null>, generation: () => string, cpu: () => { runtime: number, total: number }, sessionStoreDir: string | null,
 *   eventLogBytes: ((sessionId: string) => Promise<number>) | null, output?: () => string,
 *   sdkServer?: SdkServerRef, taskTool?: ToolRef,
 *   gateway?: { start: () => Promise<{ mcpUrl: string, stop: () => Promise<void> }>, front: (url: string) => Promise<string> },
 *   stop: () => Promise<void>,
 * }} Target
 */

function stateDir(id) {
  return mkdtempSync(path.join(tmpdir(), `smcp-bench-${id}-`));
}

async function wranglerTarget(id, config, vars = {}) {
  const state = stateDir(id);
  const started = await startWrangler({ persistTo: state, config, vars, env: BENCH_WRANGLER_ENV });
  const { port } = started;
  return {
    state,
    url: started.url,
    pid: started.child.pid,
    output: started.output,
    rss: () => rssBytes(runtimePids(started.child.pid, port)),
    jsHeap: async () => jsHeapBytes(await findInspector(started.child.pid)),
    generation: () => runtimePids(started.child.pid, port).join(","),
    cpu: () => ({
      runtime: cpuSeconds(runtimePids(started.child.pid, port)),
      total: cpuSeconds(descendants(started.child.pid)),
    }),
    stop: async () => {
      await stopWrangler(started.child);
      rmSync(state, { recursive: true, force: true });
    },
  };
}

const tool = (url, name, kind) => ({ url, name, args: TOOL_ARGS[kind] });
const peerTools = (mcpUrl) => ({
  add: tool(mcpUrl, "add_note", "add"),
  search: tool(mcpUrl, "search_notes", "search"),
  echo: tool(mcpUrl, "echo", "echo"),
  trigger: tool(mcpUrl, "test_trigger_tool_change", "trigger"),
  streamed: tool(mcpUrl, "test_tool_with_progress", "streamed"),
});

/** @returns {Promise<Target>} */
export async function startFloor() {
  const w = await wranglerTarget("floor", "bench/floor/wrangler.jsonc");
  const sessionStoreDir = path.join(w.state, "v3/do/smcp-bench-floor-FloorDO");
  return { id: "floor", label: "floor", ...w, headers: {}, lanes: [], tools: null, sessionStoreDir, eventLogBytes: null };
}

/**
 * @param {{ config?: string, id?: string, vars?: Record<string, string> }} [options]  another wrangler config (relative to the
 *   repository), e.g. a throwaway copy of SMCP with one cost taken out; `id` names its state
 *   directory; `vars` are added to the bench's settings (the metrics-cost figure's second
 *   SMCP runs with `SMCP_METRICS_RECORDING=off`)
 * @returns {Promise<Target>}
 */
export async function startSmcp({ config = "wrangler.jsonc", id = "smcp", vars = {} } = {}) {
  const w = await wranglerTarget(id, config, { ...SMCP_VARS, ...vars });
  const admin = adminClient(w.url, ADMIN_TOKEN);
  const mcpUrl = (server) => `${w.url}/mcp/${TENANT}/${server}`;
  let headers;
  let echo;
  try {
    const { key } = await provisionTenant(admin, TENANT, { servers: ["notes", "everything"] });
    headers = { authorization: `Bearer ${key}` };
    echo = await smcpEcho(mcpUrl, headers);
  } catch (err) {
    await w.stop();
    throw err;
  }
  return {
    id: "smcp",
    label: "SMCP",
    ...w,
    headers,
    lanes: ["session", "stateless"],
    tools: {
      add: tool(mcpUrl("notes"), "add_note", "add"),
      search: tool(mcpUrl("notes"), "search_notes", "search"),
      echo,
      trigger: tool(mcpUrl("everything"), "test_trigger_tool_change", "trigger"),
      streamed: tool(mcpUrl("everything"), "test_tool_with_progress", "streamed"),
    },
    taskTool: { url: mcpUrl("everything"), name: "slow_compute", args: { seconds: 0 } },
    sessionStoreDir: path.join(w.state, "v3/do/smcp-SessionDO"),
    ...(id === "smcp" ? { metricsOff: () => startSmcp({ config, id: "smcp-metrics-off", vars: { ...vars, SMCP_METRICS_RECORDING: "off" } }) } : {}),
    eventLogBytes: async (sessionId) => (await admin.call("GET", `/tenants/${TENANT}/sessions/${sessionId}`)).eventLog.bytes,
    // Report calls the tenant objects received so far (sessions' reports, report shards' batches): the per-tenant ceiling figure.
    tenantCalls: async () => (await admin.call("GET", "/health")).reports.tenantCalls,
    gateway: {
      start: startUpstreamPeer,
      front: async (url) => {
        await admin.call("PUT", `/tenants/${TENANT}/servers/gateway/upstream`, { url });
        return mcpUrl("gateway");
      },
    },
    sdkServer: {
      server: "static-text",
      file: "bench/peers/deployed/static-text.mjs",
      builtIn: { url: mcpUrl("everything"), name: "test_simple_text", args: {} },
      deploy: async (server, file) => {
        const { stdout } = await run(process.execPath, ["packages/cli/bin/smcp.mjs", "deploy", TENANT, server, file, "--url", w.url, "--token", ADMIN_TOKEN], {
          cwd: ROOT,
          timeout: 120_000,
        });
        return { url: mcpUrl(server), printed: stdout };
      },
    },
  };
}

const run = promisify(execFile);

/**
 * SMCP has no plain echo tool today: use one named `echo` if a built-in server
 * gains it, else the `everything` fixture's `test_simple_text` (no input, a static
 * text answer) as the nearest stand-in, and say so in the table.
 */
async function smcpEcho(mcpUrl, headers) {
  for (const server of ["notes", "everything"]) {
    const client = new Client({ name: "smcp-bench", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl(server)), { requestInit: { headers } }));
    const { tools } = await client.listTools();
    await client.close();
    if (tools.some((t) => t.name === "echo")) return tool(mcpUrl(server), "echo", "echo");
  }
  return { url: mcpUrl("everything"), name: "test_simple_text", args: {}, standIn: "everything/test_simple_text: SMCP has no echo tool" };
}

/** A Node server of the bench (`script` under bench/peers) on a free port, once its /healthz answers. */
async function spawnNodeServer(script, args, state, what) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--no-warnings", path.join(ROOT, script), "--port", String(port), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopWrangler(child); // stops any detached child and its group, not only wrangler
    if (state) rmSync(state, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + 15_000; ; ) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${what} did not answer /healthz within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, stop };
}

/** The gateway figure's upstream (bench/peers/upstream): its MCP URL and how to stop it. */
export async function startUpstreamPeer() {
  const { url, stop } = await spawnNodeServer("bench/peers/upstream/server.mjs", [], null, "the gateway's upstream");
  return { mcpUrl: `${url}/mcp`, stop };
}

/** @returns {Promise<Target>} */
export async function startNodePeer() {
  const state = stateDir("node");
  const { child, url, stop } = await spawnNodeServer("bench/peers/node/server.mjs", ["--db", path.join(state, "notes.sqlite")], state, "the Node peer");
  return {
    id: "node",
    label: "SDK Node",
    url,
    pid: child.pid,
    headers: {},
    lanes: ["session", "stateless"],
    tools: peerTools(`${url}/mcp`),
    rss: () => rssBytes([child.pid]),
    generation: () => String(child.pid),
    cpu: () => ({ runtime: cpuSeconds([child.pid]), total: cpuSeconds([child.pid]) }),
    sessionStoreDir: null,
    eventLogBytes: null,
    stop,
  };
}

/** @returns {Promise<Target>} */
export async function startAgentsPeer() {
  const w = await wranglerTarget("agents", "bench/peers/agents/wrangler.jsonc");
  return {
    id: "agents",
    label: "McpAgent",
    ...w,
    headers: {},
    lanes: ["session", "stateless"],
    tools: peerTools(`${w.url}/mcp`),
    sessionStoreDir: path.join(w.state, "v3/do/smcp-bench-agents-BenchMcp"),
    eventLogBytes: null,
  };
}
