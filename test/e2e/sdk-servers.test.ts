/**
 * MCP servers as their authors publish them on npm, deployed with `pnpm smcp deploy`
 * (the CLI's real bundler) to a real `wrangler dev`, and driven by the SDK's own client:
 * `@modelcontextprotocol/server-memory` and `@modelcontextprotocol/server-everything`
 * (SDK v1 stdio servers, from node_modules, never edited) and the SDK v2 factory in
 * examples/v2-server, on both lanes; its task tool as a task on the stateless lane.
 */
import { execFile } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, "../..");
const platform = new Platform();
const temp = mkdtempSync(path.join(tmpdir(), "smcp-e2e-sdk-"));
let acme: { tenant: string; key: string };
let other: { tenant: string; key: string };

/** A tenant admin key of `tenant` (SPEC section 4): what a tenant deploys its own servers with. */
let tenantAdminKey = "";

/** `pnpm smcp deploy …` as an admin types it; answers what it printed. */
async function deploy(tenant: string, server: string, source: string, ...options: string[]): Promise<string> {
  const token = options.includes("--token") ? [] : ["--token", ADMIN_TOKEN];
  const { stdout } = await run(process.execPath, ["packages/cli/bin/smcp.mjs", "deploy", tenant, server, source, ...options, "--url", platform.url, ...token], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return stdout;
}

const entities = async (client: Client) => JSON.parse(textOf(await client.callTool({ name: "read_graph", arguments: {} }))).entities.map((e: { name: string }) => e.name);

beforeAll(async () => {
  await platform.start();
  acme = await platform.tenant("sdk-acme");
  other = await platform.tenant("sdk-other");
  const printed = await Promise.all([
    deploy(acme.tenant, "memory", "@modelcontextprotocol/server-memory"),
    deploy(other.tenant, "memory", "@modelcontextprotocol/server-memory"),
    deploy(acme.tenant, "everything-npm", "@modelcontextprotocol/server-everything", "--arg", "stdio"),
  ]);
  for (const out of printed) expect(out).toMatch(/^deployed \S+ version 1 for /m);
  writeFileSync(path.join(temp, "greeter.json"), JSON.stringify({ greeting: "Hello from SMCP" }));
  const created = await fetch(`${platform.url}/admin/v1/tenants/${acme.tenant}/admin-keys`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ label: "acme's deployer" }),
  });
  tenantAdminKey = ((await created.json()) as { key: string }).key;
  const greeter = await deploy(acme.tenant, "greeter", "examples/v2-server", "--config", path.join(temp, "greeter.json"), "--token", tenantAdminKey);
  expect(greeter).toMatch(/tools \(5\): greet, count, env_names, slow_report, approve_report/);
}, 180_000);

afterAll(async () => {
  await platform.dispose();
  rmSync(temp, { recursive: true, force: true });
});

describe("@modelcontextprotocol/server-memory as published", () => {
  it("deployed:sdk-packages deployed:files — entities of one session are read in another, after a restart, and never by another tenant", async () => {
    const first = await platform.connect(acme.tenant, "memory", acme.key);
    await first.client.callTool({ name: "create_entities", arguments: { entities: [{ name: "Ada", entityType: "person", observations: ["wrote the first program"] }] } });
    const second = await platform.connect(acme.tenant, "memory", acme.key);
    expect(await entities(second.client)).toEqual(["Ada"]);

    await platform.stop();
    await platform.start();
    // The same session, rebuilt in a new instance with initialize replayed; the file persisted.
    await first.client.callTool({ name: "add_observations", arguments: { observations: [{ entityName: "Ada", contents: ["born 1815"] }] } });
    const graph = JSON.parse(textOf(await first.client.callTool({ name: "open_nodes", arguments: { names: ["Ada"] } })));
    expect(graph.entities[0].observations).toEqual(["wrote the first program", "born 1815"]);

    const neighbour = await platform.connect(other.tenant, "memory", other.key);
    expect(await entities(neighbour.client)).toEqual([]);
    for (const c of [first, second, neighbour]) await c.client.close();
  });
});

describe("@modelcontextprotocol/server-everything as published", () => {
  it("deployed:sdk-packages deployed:sdk-pipe — every tool that needs no internet, with sampling and elicitation answered by the client", async () => {
    const { client } = await platform.connect(acme.tenant, "everything-npm", acme.key, {
      capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
      setup: (c) => {
        c.setRequestHandler("sampling/createMessage", async () => ({ model: "e2e", role: "assistant", content: { type: "text", text: "a sampled reply" } }));
        c.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { name: "Ada", color: "red" } }));
        c.setRequestHandler("roots/list", async () => ({ roots: [{ uri: "file:///work", name: "work" }] }));
      },
    });
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const calls: Record<string, Record<string, unknown>> = {
      echo: { message: "hi" },
      "get-annotated-message": { messageType: "success", includeImage: true },
      "get-env": {},
      "get-resource-links": { count: 2 },
      "get-resource-reference": { resourceType: "Text", resourceId: 1 },
      "get-structured-content": { location: "New York" },
      "get-sum": { a: 2, b: 3 },
      "get-tiny-image": {},
      "toggle-simulated-logging": {},
      "toggle-subscriber-updates": {},
      "trigger-long-running-operation": { duration: 1, steps: 2 },
      "simulate-research-query": { topic: "durable objects", ambiguous: false },
      "trigger-sampling-request": { prompt: "say something", maxTokens: 20 },
      "trigger-elicitation-request": {},
      "get-roots-list": {},
    };
    // gzip-file-as-resource fetches a URL: it needs the internet, which this machine has not.
    // simulate-research-query needs a task-augmented call (SDK v1's experimental tasks, out
    // of scope: the README says so); the server's own refusal reaches the client as it wrote it.
    const offline = tools.filter((t) => t !== "gzip-file-as-resource" && t !== "simulate-research-query");
    expect(offline.length).toBeGreaterThanOrEqual(13);
    const research = await client.callTool({ name: "simulate-research-query", arguments: calls["simulate-research-query"]! });
    expect(textOf(research)).toMatch(/requires task augmentation/);
    for (const name of offline) {
      const result = await client.callTool({ name, arguments: calls[name] ?? {} });
      expect(result.isError, `${name}: ${JSON.stringify(result).slice(0, 300)}`).toBeFalsy();
      expect((result.content as unknown[]).length, name).toBeGreaterThan(0);
    }
    expect(textOf(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } }))).toContain("5");
    expect(JSON.stringify(await client.callTool({ name: "trigger-sampling-request", arguments: calls["trigger-sampling-request"] }))).toContain("a sampled reply");
    expect(JSON.stringify(await client.callTool({ name: "trigger-elicitation-request", arguments: {} }))).toContain("Ada");

    const resources = (await client.listResources()).resources;
    expect(resources.some((r) => r.uri.includes("instructions"))).toBe(true);
    for (const r of resources.slice(0, 5)) expect((await client.readResource({ uri: r.uri })).contents.length, r.uri).toBeGreaterThan(0);
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain("simple-prompt");
    expect((await client.getPrompt({ name: "args-prompt", arguments: { city: "Paris" } })).messages.length).toBeGreaterThan(0);
    await client.close();
  });
});

describe("a restart in the middle of a call", () => {
  it("lanes:nothing-hanging deployed:sdk-rebuild — the call resumed with Last-Event-ID ends with an error that says it was interrupted", async () => {
    // Retries for up to two minutes: the client must still be trying when the restarted platform is back.
    const { client } = await platform.connect(acme.tenant, "everything-npm", acme.key, { maxRetries: 240 });
    let progressed!: () => void;
    const firstProgress = new Promise<void>((resolve) => (progressed = resolve));
    const call = client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 30, steps: 30 } }, { onprogress: () => progressed(), timeout: 150_000 });
    call.catch(() => {});
    await firstProgress;
    await platform.stop();
    await platform.start();
    // The SDK client reconnects with Last-Event-ID; the rebuilt session answers the lost call.
    await expect(call).rejects.toThrow(/Request interrupted: the session's server stopped \(a restart or an eviction\)/);
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "after" } }))).toContain("after");
    await client.close();
  }, 180_000);
});

describe("an SDK v2 createServer factory (examples/v2-server)", () => {
  it("auth:tenant-admin-keys deployed:cli-deploy — a tenant admin key deploys its own tenant's servers and no other's", async () => {
    const refused = await deploy(other.tenant, "greeter", "examples/v2-server", "--token", tenantAdminKey).then(
      () => "deployed",
      (err: { stderr?: string }) => err.stderr ?? "",
    );
    expect(refused).toMatch(/manages tenant sdk-acme\S* only/);
    const versions = await fetch(`${platform.url}/admin/v1/tenants/${acme.tenant}/servers/greeter/deployments`, { headers: { Authorization: `Bearer ${tenantAdminKey}` } });
    expect(versions.status).toBe(200);
  });

  it.each(["session", "stateless"] as const)("deployed:sdk-packages deployed:sdk-lanes — on the %s lane, with its config and its files", async (lane) => {
    const { client } = await platform.connect(acme.tenant, "greeter", acme.key, { lane });
    expect(textOf(await client.callTool({ name: "greet", arguments: { name: "Ada" } }))).toContain("Hello from SMCP");
    const before = Number(textOf(await client.callTool({ name: "count", arguments: {} })).match(/\d+/)![0]);
    const after = Number(textOf(await client.callTool({ name: "count", arguments: {} })).match(/\d+/)![0]);
    expect(after).toBe(before + 1);
    await client.close();
  });
});

const TASKS = "io.modelcontextprotocol/tasks";

/**
 * Task requests over the SDK client's own transport (it sets the routing headers from the
 * body, `Mcp-Name` = taskId). The SDK Client 2.4.0 itself refuses a result of type "task"
 * (UnsupportedResultType), so these are raw JSON-RPC on that transport; their answers are
 * taken off it before the Client sees them.
 */
function taskRequests(transport: StreamableHTTPClientTransport, capabilities: Record<string, unknown> = {}) {
  const waiting = new Map<number, (message: any) => void>();
  const inner = transport.onmessage;
  transport.onmessage = (message: any, extra?: any) => {
    const done = typeof message.id === "number" ? waiting.get(message.id) : undefined;
    if (done && ("result" in message || "error" in message)) {
      waiting.delete(message.id);
      done(message);
    } else inner?.(message, extra);
  };
  let next = 1_000_000;
  const meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": { name: "smcp-e2e", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": { ...capabilities, extensions: { [TASKS]: {} } },
  };
  return (method: string, params: Record<string, unknown>): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, resolve);
      transport.send({ jsonrpc: "2.0", id, method, params: { ...params, _meta: meta } } as never).catch(reject);
    });
}

describe("task tools of a deployed SDK v2 server (examples/v2-server slow_report, approve_report)", () => {
  it("tasks:deployed stateless:tasks — created, polled to its result and cancelled through the SDK client's transport; another key of the tenant gets not-found", async () => {
    const { client, transport } = await platform.connect(acme.tenant, "greeter", acme.key, { lane: "stateless" });
    const task = taskRequests(transport);
    const created = await task("tools/call", { name: "slow_report", arguments: { seconds: 0 } });
    expect(created.result).toMatchObject({ resultType: "task", status: "working", taskId: expect.stringMatching(/^task_/) });
    const taskId = created.result.taskId as string;
    let got: any;
    for (let i = 0; i < 100; i++) {
      got = (await task("tasks/get", { taskId })).result;
      if (got.status !== "working") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(got).toMatchObject({ resultType: "complete", status: "completed", result: { content: [{ type: "text", text: "Reported after 0s" }] } });

    const slow = (await task("tools/call", { name: "slow_report", arguments: { seconds: 30 } })).result.taskId as string;
    expect((await task("tasks/cancel", { taskId: slow })).result).toEqual(expect.objectContaining({ resultType: "complete" }));
    expect((await task("tasks/get", { taskId: slow })).result).toMatchObject({ status: "cancelled" });

    // Without the extension the tool is an ordinary call, through the SDK Client itself.
    expect(textOf(await client.callTool({ name: "slow_report", arguments: { seconds: 0 } }))).toBe("Reported after 0s");

    const { key: otherKey } = await platform.admin().createKey(acme.tenant, "another key");
    const other = await platform.connect(acme.tenant, "greeter", otherKey, { lane: "stateless" });
    const theirs = await taskRequests(other.transport)("tasks/get", { taskId });
    expect(theirs.error).toMatchObject({ code: -32602 });
    await client.close();
    await other.client.close();
  });

  it("tasks:deployed-input — approve_report, written with the SDK's inputRequired, moves its task to input_required; tasks/update runs it again in a fresh instance with the answer", async () => {
    const { client, transport } = await platform.connect(acme.tenant, "greeter", acme.key, { lane: "stateless" });
    const task = taskRequests(transport, { elicitation: { form: {} } });
    const settled = async (taskId: string) => {
      for (let i = 0; i < 100; i++) {
        const got = (await task("tasks/get", { taskId })).result;
        if (got.status !== "working") return got;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`task ${taskId} stayed working`);
    };
    const taskId = (await task("tools/call", { name: "approve_report", arguments: { title: "Q3" } })).result.taskId as string;
    expect(await settled(taskId)).toMatchObject({ status: "input_required", inputRequests: { publish: { method: "elicitation/create", params: { message: 'Publish "Q3"?' } } } });
    expect((await task("tasks/update", { taskId, inputResponses: { publish: { action: "accept", content: { publish: true } } } })).error).toBeUndefined();
    expect(await settled(taskId)).toMatchObject({ status: "completed", result: { content: [{ type: "text", text: 'Published "Q3"' }] } });
    await client.close();
  });
});
