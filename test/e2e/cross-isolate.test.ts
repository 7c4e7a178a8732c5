// List changes and task notifications across isolates (issue 13), with the official SDK client (raw
// requests for tasks, which SDK Client 2.4.0 refuses): one
// `wrangler dev` runs SMCP twice, as two Workers in two isolates that share the Durable
// Object namespaces (the second binds the first's classes by `script_name`,
// two-isolates/wrangler.b.jsonc), behind a front Worker that sends `/isolate-b/...` to
// the second (two-isolates/front.ts). What one isolate keeps in memory the other never
// sees, so a listener on B hears a change published through A only through the bus's
// Durable Object. (Two `wrangler dev` processes on one state directory would not do:
// they run two instances of each object; ../shared/research/hosting.md.)
import { mkdtempSync, rmSync } from "node:fs";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helpers shared with the scripts
import { startWrangler, stopWrangler } from "../../scripts/lib/wrangler.mjs";
// @ts-expect-error plain ESM helpers shared with the scripts
import { adminClient, provisionTenant } from "../../scripts/lib/admin-client.mjs";
import { TASKS_EXTENSION, lastMessage, post2026 } from "./raw-2026";
import { writeTwoIsolateConfigs } from "./two-isolates/configs";

const ADMIN_TOKEN = "e2e-admin-token";
/** Listen streams per tenant per isolate, and per server's bus across isolates. */
const LISTEN_CAP = 2;
const converter = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/unit-converter.js"), "utf8");

type Isolate = "a" | "b";
type Change = "notifications/tools/list_changed" | "notifications/prompts/list_changed" | "notifications/resources/list_changed";
const CHANGES: Change[] = ["notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/resources/list_changed"];

const state = mkdtempSync(path.join(tmpdir(), "smcp-e2e-two-"));
let url = "";
let child: unknown;
let acme: { tenant: string; key: string };
let globex: { tenant: string; key: string };
const clients: Client[] = [];

const mcpUrl = (isolate: Isolate, tenant: string, server: string) => new URL(`${url}${isolate === "b" ? "/isolate-b" : ""}/mcp/${tenant}/${server}`);

/** The SDK client on the stateless lane (2026-07-28), through isolate `isolate`. */
async function connect(isolate: Isolate, t: { tenant: string; key: string }, server: string, setup?: (client: Client) => void): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(mcpUrl(isolate, t.tenant, server), {
    requestInit: { headers: { Authorization: `Bearer ${t.key}` } },
  });
  const client = new Client({ name: "smcp-e2e", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  setup?.(client);
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** A `subscriptions/listen` stream through `isolate`: `next()` is the next list change it hears. */
async function listener(isolate: Isolate, t: { tenant: string; key: string }, server: string) {
  const heard: Change[] = [];
  let wake: (() => void) | undefined;
  const client = await connect(isolate, t, server, (c) => {
    for (const method of CHANGES) {
      c.setNotificationHandler(method, () => {
        heard.push(method);
        wake?.();
      });
    }
  });
  await client.listen({ toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true });
  return {
    async next(): Promise<Change> {
      const deadline = Date.now() + 10_000;
      while (heard.length === 0) {
        if (Date.now() > deadline) throw new Error(`no list change reached the listener on isolate ${isolate}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
      return heard.shift()!;
    },
  };
}

beforeAll(async () => {
  const configs = writeTwoIsolateConfigs(state, {
    SMCP_ADMIN_TOKEN: ADMIN_TOKEN,
    SMCP_ALLOW_PUBLIC_TENANTS: "true",
    SMCP_MAX_LISTEN_STREAMS_PER_TENANT: String(LISTEN_CAP),
  });
  const started = await startWrangler({ config: configs, persistTo: path.join(state, "state") });
  child = started.child;
  url = started.url;
  const admin = adminClient(url, ADMIN_TOKEN);
  acme = await provisionTenant(admin, "acme", { servers: ["everything"] });
  globex = await provisionTenant(admin, "globex", { servers: ["everything"] });
});
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await stopWrangler(child);
  rmSync(state, { recursive: true, force: true });
});

describe("subscriptions/listen across isolates", () => {
  it("stateless:listen-cross-isolate stateless:listen-scoped isolation:tenants — a list change published through one isolate reaches the tenant's listeners on both, and no other tenant's", async () => {
    const acmeOnB = await listener("b", acme, "everything");
    const acmeOnA = await listener("a", acme, "everything");
    const globexOnB = await listener("b", globex, "everything");

    const acmeThroughA = await connect("a", acme, "everything");
    await acmeThroughA.callTool({ name: "test_trigger_tool_change", arguments: {} });
    expect(await acmeOnB.next()).toBe("notifications/tools/list_changed");
    expect(await acmeOnA.next()).toBe("notifications/tools/list_changed");

    // And the other way: published through B, heard on A.
    const acmeThroughB = await connect("b", acme, "everything");
    await acmeThroughB.callTool({ name: "test_trigger_prompt_change", arguments: {} });
    expect(await acmeOnA.next()).toBe("notifications/prompts/list_changed");
    expect(await acmeOnB.next()).toBe("notifications/prompts/list_changed");

    // Globex heard none of acme's: the first change on its stream is its own, published after acme's.
    const globexThroughA = await connect("a", globex, "everything");
    await globexThroughA.callTool({ name: "test_trigger_tool_change", arguments: {} });
    expect(await globexOnB.next()).toBe("notifications/tools/list_changed");
    await globexThroughA.callTool({ name: "test_trigger_prompt_change", arguments: {} });
    expect(await globexOnB.next()).toBe("notifications/prompts/list_changed");
  });

  it("stateless:listen-cross-isolate deployed:deployments-api — a new version deployed through one isolate tells the server's listeners on the other", async () => {
    const deploy = (source: string) =>
      fetch(`${url}/admin/v1/tenants/${acme.tenant}/servers/units/deployments`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
        body: source,
      });
    expect((await deploy(converter)).status).toBe(201);
    const unitsOnB = await listener("b", acme, "units");
    expect((await deploy(`${converter}\n// version 2\n`)).status).toBe(201);
    // The module declares tools only; resources and prompts changes are not honored on its stream.
    expect(await unitsOnB.next()).toBe("notifications/tools/list_changed");
  });

  it("stateless:listen-scoped — a server's bus holds at most SMCP_MAX_LISTEN_STREAMS_PER_TENANT streams, counted across isolates", async () => {
    const t = await provisionTenant(adminClient(url, ADMIN_TOKEN), "initech", { servers: ["everything"] });
    // One stream on each isolate: neither isolate's own count is at the cap, the bus's is.
    await listener("a", t, "everything");
    await listener("b", t, "everything");
    const third = await post2026(mcpUrl("a", t.tenant, "everything"), t.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
    expect(third.status).toBe(429);
    expect((await third.json()).error.message).toBe(`Too many open subscriptions/listen streams for this tenant (at most ${LISTEN_CAP} at once); close one first`);
  });

  it("tasks:notifications stateless:listen-cross-isolate stateless:durable-state — a task answered through one isolate notifies its owner's listen stream on the other", async () => {
    const t = await provisionTenant(adminClient(url, ADMIN_TOKEN), "hooli", { servers: ["everything"] });
    const created = await taskRequest("a", t, "tools/call", { name: "confirm_delete", arguments: { filename: "x.txt" } });
    const taskId = created.result.taskId as string;
    const stream = await taskListen("b", t, [taskId]);
    expect((await stream.next()).params.notifications).toEqual({ taskIds: [taskId] });
    let task = (await stream.next()).params;
    // Its first notification is its state when the stream opened; then each change.
    if (task.status === "working") task = (await stream.next()).params;
    expect(task).toMatchObject({ taskId, status: "input_required" });
    await taskRequest("a", t, "tasks/update", { taskId, inputResponses: { confirm: { action: "accept", content: { ok: true } } } });
    do task = (await stream.next()).params;
    while (task.status === "working");
    expect(task).toMatchObject({ taskId, status: "completed", result: { content: [{ text: "Deleted x.txt" }] } });
    await stream.cancel();
  });

  it("auth:revoke-10s tasks:notifications — a key revoked through one isolate ends its listen stream held by the other, with an error for the listen's id", async () => {
    const t = await provisionTenant(adminClient(url, ADMIN_TOKEN), "umbrella", { servers: ["everything"] });
    const created = await taskRequest("a", t, "tools/call", { name: "confirm_delete", arguments: { filename: "y.txt" } });
    // Watching list changes too: the stream does not end just because its task was cancelled.
    const stream = await taskListen("b", t, [created.result.taskId], { toolsListChanged: true });
    expect((await stream.next()).method).toBe("notifications/subscriptions/acknowledged");
    const revoked = await fetch(`${url}/admin/v1/tenants/${t.tenant}/keys/${t.keyId}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(revoked.status).toBe(200);
    let last: any;
    for (;;) {
      const message = await stream.next().catch((err: Error) => (err.message === "the listen stream ended" ? null : Promise.reject(err)));
      if (!message) break;
      last = message;
    }
    expect(last).toMatchObject({ id: 1, error: { code: -32600, message: expect.stringMatching(/revoked or expired/) } });
  });
});

/** A raw 2026-07-28 request that declares the Tasks extension (the SDK Client 2.4.0 refuses task results). */
function taskPost(isolate: Isolate, t: { tenant: string; key: string }, method: string, params: Record<string, unknown>): Promise<Response> {
  return post2026(mcpUrl(isolate, t.tenant, "everything"), t.key, method, params, { capabilities: { elicitation: {}, extensions: { [TASKS_EXTENSION]: {} } } });
}

async function taskRequest(isolate: Isolate, t: { tenant: string; key: string }, method: string, params: Record<string, unknown>): Promise<any> {
  const { text, message } = await lastMessage(await taskPost(isolate, t, method, params));
  expect(message.error, text).toBeUndefined();
  return message;
}

/** A listen stream for `taskIds`; `next()` is its next JSON-RPC message. */
async function taskListen(isolate: Isolate, t: { tenant: string; key: string }, taskIds: string[], lists: Record<string, boolean> = {}) {
  const res = await taskPost(isolate, t, "subscriptions/listen", { notifications: { taskIds, ...lists } });
  if (!res.headers.get("content-type")?.startsWith("text/event-stream")) throw new Error(`listen refused: ${res.status} ${await res.text()}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    async next(): Promise<any> {
      for (;;) {
        const end = buffered.indexOf("\n\n");
        if (end >= 0) {
          const data = buffered
            .slice(0, end)
            .split("\n")
            .filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6))
            .join("\n");
          buffered = buffered.slice(end + 2);
          if (data) return JSON.parse(data);
          continue;
        }
        const { done, value } = await reader.read();
        if (done) throw new Error("the listen stream ended");
        buffered += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}
