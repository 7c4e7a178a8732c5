/**
 * What only a real deployment can show, and the same file against local `wrangler dev`.
 *
 * Against `SMCP_REMOTE_URL` every test runs: the sandbox's CPU-loop and memory-bomb
 * escapes, the per-call CPU limit, and a stall confined to one tenant. Locally, workerd
 * runs the Worker, every Durable Object and every loaded isolate on one thread with no
 * CPU or memory limit, so those four are skipped (the reason is in each name) and the
 * rest (deploy a server, call it on both lanes, a call under the CPU limit, a tenant's
 * whole lifecycle) runs for real. The tier creates its own tenants and deletes them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_NO_CPU_LIMIT, LOCAL_NO_MEMORY_LIMIT, REMOTE_URL, adminOf, connect, openTarget, uniqueTenant, type Target } from "./target";

const local = !REMOTE_URL;
const converter = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/unit-converter.js"), "utf8");

/** A module with one tool `run` whose handler body is `body` (it may use `args`). */
const oneTool = (body: string) =>
  `export default { tools: [{ name: "run", description: "deployment tier", inputSchema: { type: "object" }, async handler(args) { ${body} } }] };`;

/** Sums 0..n-1 the slow way: CPU time grows with n, the answer is exact. */
const WORK = oneTool("let sum = 0; for (let i = 0; i < args.n; i++) sum += i; return String(sum);");

let target: Target;
let admin: ReturnType<typeof adminOf>;
const tenants: string[] = [];
const clients: Client[] = [];
let a: { tenant: string; key: string };
let b: { tenant: string; key: string };
/** Tenant B's session, opened before anything hostile ran. */
let neighbour: Client;

async function createTenant(prefix: string, servers: string[] = []): Promise<{ tenant: string; key: string }> {
  const tenant = uniqueTenant(prefix);
  await admin.ok("POST", "/tenants", { id: tenant }, 201);
  tenants.push(tenant);
  for (const server of servers) await admin.ok("PUT", `/tenants/${tenant}/servers/${server}`, undefined, 201);
  const { key } = await admin.ok("POST", `/tenants/${tenant}/keys`, { label: "deployed-tier" }, 201);
  return { tenant, key };
}

async function deploy(tenant: string, server: string, source: string): Promise<void> {
  const res = await admin.call("PUT", `/tenants/${tenant}/servers/${server}/deployments`, source, "application/javascript");
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
}

async function open(tenant: { tenant: string; key: string }, server: string, lane: "session" | "stateless" = "session"): Promise<Client> {
  const client = await connect(target, tenant.tenant, server, tenant.key, lane);
  clients.push(client);
  return client;
}

/** Tenant B still converts, on the session it opened before the attack. */
async function neighbourStillWorks(): Promise<void> {
  const result = await neighbour.callTool({ name: "convert", arguments: { value: 1, from: "km", to: "m" } });
  expect(result.structuredContent).toEqual({ value: 1000, unit: "m" });
}

beforeAll(async () => {
  target = await openTarget();
  admin = adminOf(target);
  a = await createTenant("deployed-a");
  b = await createTenant("deployed-b");
  await deploy(b.tenant, "units", converter);
  neighbour = await open(b, "units");
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  // Whatever happened above, the tier leaves no tenant behind on the deployment.
  for (const tenant of tenants) {
    const res = await admin?.call("DELETE", `/tenants/${tenant}`);
    if (res && res.status !== 200 && res.status !== 404) console.error(`could not delete tenant ${tenant}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await target?.close();
});

describe("deploy and call", () => {
  it.each(["session", "stateless"] as const)("deployed:sandbox lanes:by-era — a deployed module answers the SDK client on the %s lane", async (lane) => {
    const client = await open(b, "units", lane);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["convert", "list_units"]);
    const result = await client.callTool({ name: "convert", arguments: { value: 10, from: "km", to: "mi" } });
    expect(result.structuredContent).toEqual({ value: 6.213711922, unit: "mi" });
  });

  it("deployed:sandbox — a call using a few milliseconds of CPU answers its exact result", async () => {
    await deploy(a.tenant, "work", WORK);
    const client = await open(a, "work");
    const result = await client.callTool({ name: "run", arguments: { n: 100_000 } });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: "4999950000" }]);
  });
});

describe("tenant lifecycle", () => {
  it("admin:tenants — a tenant created here is listed and serves its key; deleted, it is gone for the admin API and its key", async () => {
    const c = await createTenant("deployed-c", ["notes"]);
    const listed = await admin.ok("GET", "/tenants");
    expect(listed.tenants.map((t: { id: string }) => t.id)).toContain(c.tenant);
    const client = await connect(target, c.tenant, "notes", c.key, "stateless");
    await client.callTool({ name: "add_note", arguments: { title: "lifecycle", body: "written before the delete" } });
    await client.close();

    expect(await admin.ok("DELETE", `/tenants/${c.tenant}`)).toEqual({ deleted: c.tenant, sessionsEnded: 0 });
    expect((await admin.call("GET", `/tenants/${c.tenant}`)).status).toBe(404);
    expect((await admin.ok("GET", "/tenants")).tenants.map((t: { id: string }) => t.id)).not.toContain(c.tenant);
    // Its key is refused at once (nothing is served) and gets the unknown-tenant 401 once
    // the isolate's 5-second key cache has lapsed; poll for that with a deadline.
    const statuses: number[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await fetch(`${target.url}/mcp/${c.tenant}/notes`, {
        method: "POST",
        headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
      });
      await res.body?.cancel();
      statuses.push(res.status);
      if (res.status === 401 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(statuses.at(-1)).toBe(401);
    expect(statuses.filter((s) => s !== 401 && s !== 404), JSON.stringify(statuses)).toEqual([]);
  });
});

describe("limits only a deployment enforces", () => {
  it.skipIf(local)(`deployed:sandbox — a call needing seconds of CPU is stopped by limits.cpuMs and the next call answers (${LOCAL_NO_CPU_LIMIT})`, async () => {
    await deploy(a.tenant, "work", WORK);
    const client = await open(a, "work");
    await expect(client.callTool({ name: "run", arguments: { n: 20_000_000_000 } })).rejects.toThrow(/Deployed server work \(v\d+\) failed running tool run: .*CPU/);
    const after = await client.callTool({ name: "run", arguments: { n: 1000 } });
    expect(after.content).toEqual([{ type: "text", text: "499500" }]);
    await neighbourStillWorks();
  });

  it.skipIf(local)(`deployed:sandbox — an endless loop is stopped by the CPU limit (${LOCAL_NO_CPU_LIMIT})`, async () => {
    await deploy(a.tenant, "spin", oneTool("for (;;) {}"));
    const client = await open(a, "spin");
    await expect(client.callTool({ name: "run", arguments: {} })).rejects.toThrow(/^MCP error -32603: Deployed server spin \(v1\) failed running tool run: .*CPU/);
    await neighbourStillWorks();
  });

  it.skipIf(local)(`deployed:sdk-hang deployed:sandbox — a deployed SDK server that spins is ended by its instance's CPU budget; the call gets an error and the next one a rebuilt instance (${LOCAL_NO_CPU_LIMIT})`, async () => {
    // An SDK server as the bundler makes one (sdk-bundle/1: the module wrapped in one function), written straight against the bridge.
    const code = `export default async function (__smcp_require) {
      const t = new (__smcp_require("smcp:stdio").StdioServerTransport)();
      t.onmessage = (m) => {
        if (m.method === "initialize") t.send({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "spinner", version: "1" } } });
        else if (m.method === "tools/list") t.send({ jsonrpc: "2.0", id: m.id, result: { tools: [{ name: "spin", inputSchema: { type: "object" } }, { name: "ok", inputSchema: { type: "object" } }] } });
        else if (m.method === "tools/call" && m.params.name === "spin") for (;;) {}
        else if (m.method === "tools/call") t.send({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "ok" }] } });
      };
      await t.start();
      return {};
    }`;
    const body = JSON.stringify({ format: "sdk-bundle/1", kind: "stdio", code, builtins: [], root: "/app", files: {}, argv: [], env: {} });
    const res = await admin.call("PUT", `/tenants/${a.tenant}/servers/sdk-spin/deployments`, body, "application/json");
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
    const client = await open(a, "sdk-spin");
    await expect(client.callTool({ name: "spin", arguments: {} })).rejects.toThrow(/Deployed server sdk-spin \(v1\) stopped before answering: the server's instance crashed/);
    expect(await client.callTool({ name: "ok", arguments: {} })).toMatchObject({ content: [{ type: "text", text: "ok" }] });
    await neighbourStillWorks();
  });

  it.skipIf(local)(`deployed:sandbox — a huge allocation ends that isolate only (${LOCAL_NO_MEMORY_LIMIT})`, async () => {
    await deploy(a.tenant, "bomb", oneTool("const a = []; for (;;) a.push(new Array(1e6).fill(1));"));
    const client = await open(a, "bomb");
    await expect(client.callTool({ name: "run", arguments: {} })).rejects.toThrow(/^MCP error -32603: Deployed server bomb \(v1\) failed running tool run: .*memory/);
    await neighbourStillWorks();
  });

  it.skipIf(local)(`isolation:tenants deployed:sandbox — while tenant A's server spins, tenant B's session answers (${LOCAL_NO_CPU_LIMIT})`, async () => {
    await deploy(a.tenant, "stall", oneTool("for (;;) {}"));
    const spinners = await Promise.all([1, 2, 3].map(() => open(a, "stall")));
    // Tenant A keeps a spinning call in flight on each of its sessions until B has answered.
    let inFlight = 0;
    let stop = false;
    const failures: string[] = [];
    const spin = async (client: Client) => {
      while (!stop) {
        inFlight++;
        await client.callTool({ name: "run", arguments: {} }).then(
          () => failures.push("a spinning call answered"),
          (err: Error) => {
            if (!/CPU|exceeded/i.test(err.message)) failures.push(err.message);
          },
        );
        inFlight--;
      }
    };
    const stalls = spinners.map(spin);
    // Wait until every spinner has a call out (an event, not a sleep).
    const deadline = Date.now() + 30_000;
    while (inFlight < spinners.length && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(inFlight).toBe(spinners.length);

    const answers: unknown[] = [];
    const inFlightWhenAnswered: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const result = await neighbour.callTool({ name: "convert", arguments: { value: i, from: "km", to: "m" } });
      inFlightWhenAnswered.push(inFlight);
      answers.push(result.structuredContent);
    }
    stop = true;
    await Promise.all(stalls);
    expect(answers).toEqual([1, 2, 3, 4, 5].map((i) => ({ value: i * 1000, unit: "m" })));
    // Each of B's answers arrived while A still had spinning calls out.
    expect(inFlightWhenAnswered.every((n) => n > 0), JSON.stringify(inFlightWhenAnswered)).toBe(true);
    expect(failures).toEqual([]);
  });
});
