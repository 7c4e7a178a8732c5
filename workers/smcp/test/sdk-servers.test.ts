/**
 * Deployed SDK servers (SPEC section 9, issue 12): the session relays JSON-RPC to an
 * instance of the tenant's bundle in a Worker Loader isolate of its own. The server
 * here is hostile on purpose (fixtures/raw-sdk-server.js, written straight against the
 * platform's stdio substitute); every escape must fail with a clear error while a
 * neighbour tenant's session, opened first, keeps working. The real npm packages run
 * in the end-to-end tier (test/e2e/sdk-servers.test.ts), bundled by `pnpm smcp deploy`.
 */
import { SELF, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import rawFactoryServer from "./fixtures/raw-factory-server.js?raw";
import rawServer from "./fixtures/raw-sdk-server.js?raw";
import {
  ADMIN_TOKEN,
  ORIGIN,
  adminOk,
  callTool,
  initializeParams,
  mcpFetch,
  mcpUrl,
  openSession,
  provisionTenant,
  request,
  send,
  rpc,
  readAllEvents,
  openStream,
  sessionStub,
  SseReader,
  statelessFetch,
  statelessMeta,
  responseMessage,
  taskCall,
  expectRpcError,
  newKey,
  settledTask,
  startTask,
  taskFetch,
  textOf,
  type Session,
  type Tenant,
} from "./helpers";

const bundle = (extra: Record<string, unknown> = {}) => ({
  format: "sdk-bundle/1",
  kind: "stdio",
  sdk: "unknown",
  code: rawServer,
  builtins: [],
  root: "/app",
  argv: ["--flag"],
  env: { PLAIN: "visible" },
  ...extra,
});

function deploy(tenant: string, server: string, body: unknown): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function rpcError(session: Session, name: string): Promise<{ code: number; message: string }> {
  const message = await request(session, "tools/call", { name, arguments: {} });
  expect(message.result, JSON.stringify(message)).toBeUndefined();
  expect(JSON.stringify(message.error)).not.toMatch(/\n\s+at |\.ts:\d+/);
  return message.error;
}

describe("deployed SDK servers", () => {
  let acme: Tenant;
  let neighbour: Tenant;
  let neighbourSession: Session;
  let session: Session;

  const neighbourStillWorks = async () => {
    const result = await callTool(neighbourSession, "add_note", { title: "still here", body: "x" });
    expect(result.isError).toBeFalsy();
  };

  beforeAll(async () => {
    neighbour = await provisionTenant({ prefix: "sdk-neighbour", servers: ["notes"] });
    neighbourSession = await openSession(mcpUrl(neighbour.tenant, "notes"), neighbour.key);
    acme = await provisionTenant({ prefix: "sdk-acme" });
    const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${acme.tenant}/servers/raw/secrets/API_TOKEN`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "text/plain" },
      body: "s3cret-value-123",
    });
    expect(res.status, await res.text()).toBeLessThan(300);
    const deployed = await deploy(acme.tenant, "raw", bundle());
    const text = await deployed.text();
    expect(deployed.status, text).toBe(201);
    expect(JSON.parse(text)).toMatchObject({ kind: "sdk", start: "stdio", version: 1, tools: expect.arrayContaining(["echo", "hang"]) });
    session = await openSession(mcpUrl(acme.tenant, "raw"), acme.key);
  });

  it("deployed:sdk-pipe — serves the session lane from an instance of the tenant's code", async () => {
    expect(textOf(await callTool(session, "echo", { message: "a" }))).toBe("echo a (call 1 of this instance)");
    expect(textOf(await callTool(session, "echo", { message: "b" }))).toBe("echo b (call 2 of this instance)");
    // Another session has an instance (module state) of its own.
    const other = await openSession(mcpUrl(acme.tenant, "raw"), acme.key);
    expect(textOf(await callTool(other, "echo", { message: "c" }))).toBe("echo c (call 1 of this instance)");
  });

  it("deployed:sdk-escape — gives the server its env and secrets as process.env and no binding but its own", async () => {
    const seen = JSON.parse(textOf(await callTool(session, "env")));
    expect(seen.env).toEqual(["API_TOKEN", "PLAIN"]);
    expect(seen).toMatchObject({ cwd: "/app", argv: ["--flag"] });
    expect(JSON.parse(textOf(await callTool(session, "bindings")))).toEqual(["API_TOKEN", "FILES", "PLAIN"]);
    await neighbourStillWorks();
  });

  it("deployed:secrets — a changed secret reaches new sessions; a running one keeps what it started with", async () => {
    const put = (value: string) =>
      SELF.fetch(`${ORIGIN}/admin/v1/tenants/${acme.tenant}/servers/raw/secrets/API_TOKEN`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "text/plain" },
        body: value,
      });
    const running = await openSession(mcpUrl(acme.tenant, "raw"), acme.key);
    expect(textOf(await callTool(running, "secret"))).toBe("s3cret-value-123");
    expect((await put("rotated-value-456")).status).toBe(200);
    const fresh = await openSession(mcpUrl(acme.tenant, "raw"), acme.key);
    expect(textOf(await callTool(fresh, "secret"))).toBe("rotated-value-456");
    expect(textOf(await callTool(running, "secret"))).toBe("s3cret-value-123");
    expect((await put("s3cret-value-123")).status).toBe(200);
  });

  it("deployed:sdk-escape — refuses fetches off the allow-list inside the sandbox", async () => {
    const result = await callTool(session, "fetch", { url: "https://example.com/" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/not on the allow-list of server raw/);
    await neighbourStillWorks();
  });

  it("deployed:sdk-escape — caps a notification flood before the event log", async () => {
    const started = Date.now();
    const res = await send(session, rpc("tools/call", { name: "flood", arguments: {} }));
    const events = (await readAllEvents(res)).filter((e) => e.data !== "").map((e) => JSON.parse(e.data));
    const seconds = (Date.now() - started) / 1000;
    const notes = events.filter((m) => m.method === "notifications/message");
    expect(notes.length).toBeGreaterThan(0);
    // Of 1000 sent: the burst (200), plus what the rate (50 a second) refilled while the call ran.
    expect(notes.length).toBeLessThanOrEqual(200 + Math.ceil(50 * seconds) + 1);
    expect(notes.length).toBeLessThan(1000);
    expect(events.at(-1).result).toBeDefined();
    await neighbourStillWorks();
  });

  it("deployed:sdk-escape — refuses malformed JSON-RPC and an answer that is not an MCP result", async () => {
    const error = await rpcError(session, "malformed");
    expect(error.code).toBe(-32603);
    expect(error.message).toMatch(/answered tools\/call with a value that is not a valid MCP result/);
    await neighbourStillWorks();
  });

  it("deployed:sdk-hang — answers a call that never settles with an error that says so", async () => {
    const error = await rpcError(session, "hang");
    expect(error.message).toBe("Deployed server raw (v1) did not answer tools/call within 2 s");
    // The instance is fine: the next call works.
    expect(textOf(await callTool(session, "echo", { message: "after" }))).toMatch(/^echo after/);
  });

  it("lanes:nothing-hanging — a call in flight when its session object dies gets an error from the Worker, and on its stream's resumption", async () => {
    const own = await openSession(mcpUrl(acme.tenant, "raw"), acme.key);
    const res = await send(own, rpc("tools/call", { name: "hang", arguments: {} }));
    const reader = new SseReader(res);
    const priming = (await reader.next())!;
    expect(priming.data).toBe("");
    // The object dies mid-call: the Worker, which still holds the connection, answers.
    // (abort() throws in the object, by design: the rejection is the object dying.)
    await runInDurableObject(sessionStub(acme.tenant, "raw", own.sessionId), (_obj, state: DurableObjectState) => state.abort("test: the object dies")).catch(() => {});
    const rest = (await reader.rest()).filter((e) => e.data !== "").map((e) => JSON.parse(e.data));
    expect(rest.at(-1).error.message).toMatch(/^Request interrupted: the session's server stopped before answering/);
    // The rebuilt object wrote the same on the request's own stream, for a client that resumes.
    const resumed = await openStream(own, priming.id);
    expect(resumed.status).toBe(200);
    const replayed = (await readAllEvents(resumed)).filter((e) => e.data !== "").map((e) => JSON.parse(e.data));
    expect(replayed).toHaveLength(1);
    expect(replayed[0].error.message).toMatch(/^Request interrupted: the session's server stopped \(a restart or an eviction\)/);
    // The session itself lives on.
    expect(textOf(await callTool(own, "echo", { message: "after" }))).toMatch(/^echo after/);
  });

  it("deployed:sdk-rebuild — rebuilds an instance that exited, replaying initialize and the log level", async () => {
    expect((await request(session, "logging/setLevel", { level: "warning" })).error).toBeUndefined();
    const error = await rpcError(session, "exit");
    expect(error.message).toMatch(/stopped before answering: the server called process\.exit\(3\)/);
    // A fresh instance: module state starts over, the protocol state the client set does not.
    expect(textOf(await callTool(session, "echo", { message: "x" }))).toBe("echo x (call 1 of this instance)");
    expect(JSON.parse(textOf(await callTool(session, "env"))).level).toBe("warning");
    await neighbourStillWorks();
  });

  it("traces:propagate — the instance sees SMCP's span context as _meta.traceparent, in the caller's trace, on both lanes", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const caller = "00f067aa0ba902b7";
    const passedOn = new RegExp(`^00-${traceId}-(?!${caller})[0-9a-f]{16}-01$`);
    const res = await send(session, rpc("tools/call", { name: "traceparent", arguments: {} }), { headers: { traceparent: `00-${traceId}-${caller}-01` } });
    expect((await responseMessage(res)).result.content[0].text).toMatch(passedOn);
    const stateless = await mcpFetch(mcpUrl(acme.tenant, "raw"), {
      key: acme.key,
      headers: { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "traceparent" },
      body: rpc("tools/call", { name: "traceparent", arguments: {}, _meta: { ...statelessMeta(), traceparent: `00-${traceId}-${caller}-01` } }),
    });
    expect((await responseMessage(stateless)).result.content[0].text).toMatch(passedOn);
  });

  it("deployed:sdk-lanes — serves the stateless lane from a fresh instance, and says why a request to the client fails there", async () => {
    const url = mcpUrl(acme.tenant, "raw");
    const res = await statelessFetch(url, acme.key, "tools/call", { name: "echo", arguments: { message: "s" } });
    const message = await responseMessage(res);
    expect(message.result.content[0].text).toBe("echo s (call 1 of this instance)");
    const sampled = await responseMessage(await statelessFetch(url, acme.key, "tools/call", { name: "sample", arguments: {} }));
    expect(sampled.result.isError).toBe(true);
    expect(sampled.result.content[0].text).toMatch(/stateless lane .* cannot be answered/);
  });

  it("tasks:deployed — a tool the server lists with execution.taskSupport runs as a task, in a fresh instance, for a client that declares the extension; another key gets not-found", async () => {
    const url = mcpUrl(acme.tenant, "raw");
    const taskId = await startTask(url, acme.key, "echo", { message: "as a task" });
    const done = await settledTask(url, acme.key, taskId);
    expect(done).toMatchObject({ status: "completed", result: { content: [{ type: "text", text: "echo as a task (call 1 of this instance)" }] } });
    const other = await newKey(acme.tenant);
    await expectRpcError(await taskFetch(url, other.key, "tasks/get", { taskId }), 200, -32602);
    // Without the extension the same tool answers synchronously, as before.
    expect((await responseMessage(await statelessFetch(url, acme.key, "tools/call", { name: "echo", arguments: { message: "sync" } }))).result).toMatchObject({ resultType: "complete" });
  });

  it("tasks:deployed-input — a deployed task tool that answers input_required moves its task to input_required with its requests; tasks/update runs the next round, in a fresh instance on 2026-07-28, with the answers and the server's requestState", async () => {
    const deployed = await deploy(acme.tenant, "raw-factory", bundle({ kind: "factory", sdk: "v2", code: rawFactoryServer, argv: [] }));
    expect(deployed.status, await deployed.text()).toBe(201);
    const url = mcpUrl(acme.tenant, "raw-factory");
    const taskId = await startTask(url, acme.key, "approve", { file: "q3.pdf" });
    const waiting = await settledTask(url, acme.key, taskId);
    expect(waiting).toMatchObject({ status: "input_required", inputRequests: { confirm: { method: "elicitation/create", params: { message: "Approve q3.pdf?" } } } });
    await taskCall(url, acme.key, "tasks/update", { taskId, inputResponses: { confirm: { action: "accept", content: { ok: true } } } });
    const done = await settledTask(url, acme.key, taskId);
    expect(done).toMatchObject({ status: "completed", result: { content: [{ type: "text", text: "approved q3.pdf (state approve-1, revision 2026-07-28)" }] } });
    // A synchronous call still opens its instance with the 2025 handshake, as before.
    const sync = await responseMessage(await statelessFetch(url, acme.key, "tools/call", { name: "plain", arguments: {} }));
    expect(sync.result.content[0].text).toBe("plain on 2025-11-25");
  });

  it("tasks:deployed-input tasks:bounded — a deployed task that keeps asking fails once it asks more than SMCP_MAX_TASK_INPUT_ROUNDS times", async () => {
    const url = mcpUrl(acme.tenant, "raw-factory");
    const taskId = await startTask(url, acme.key, "ask_forever", {});
    let task = await settledTask(url, acme.key, taskId);
    for (let round = 1; task.status === "input_required"; round++) {
      expect(Object.keys(task.inputRequests)).toEqual([`again_${round}`]);
      await taskCall(url, acme.key, "tasks/update", { taskId, inputResponses: { [`again_${round}`]: { action: "accept", content: { ok: true } } } });
      task = await settledTask(url, acme.key, taskId);
      expect(round).toBeLessThanOrEqual(10);
    }
    expect(task).toMatchObject({ status: "failed", error: { message: "The task asked for input more than 10 times" } });
  });

  it("tasks:deployed — an SDK v1 server's taskSupport is its own experimental tasks: the platform makes no task of its tools", async () => {
    const deployed = await deploy(acme.tenant, "raw-v1", bundle({ sdk: "v1" }));
    expect(deployed.status, await deployed.text()).toBe(201);
    const answer = await responseMessage(await taskFetch(mcpUrl(acme.tenant, "raw-v1"), acme.key, "tools/call", { name: "echo", arguments: { message: "v1" } }));
    expect(answer.result).toMatchObject({ resultType: "complete", content: [{ text: "echo v1 (call 1 of this instance)" }] });
  });

  it("deployed:sdk-check — refuses a server whose start fails, with the reason, and keeps the running version", async () => {
    const broken = `export default async function () { throw new Error("needs a database at DB_URL"); }`;
    const res = await deploy(acme.tenant, "raw", bundle({ code: broken }));
    const body = await res.text();
    expect(res.status, body).toBe(400);
    expect(JSON.parse(body).error.message).toMatch(/health check: the server failed to start: needs a database at DB_URL/);
    expect(textOf(await callTool(session, "echo", { message: "kept" }))).toMatch(/^echo kept/);
    const view = await adminOk("GET", `/tenants/${acme.tenant}/servers/raw`);
    expect(view).toMatchObject({ format: "sdk", version: 1, status: "serving" });
  });

  it("deployed:sdk-check — the platform itself refuses a start that needs a child process or a raw socket, with the reason", async () => {
    const spawns = `export default async function (__smcp_require) { __smcp_require("node:child_process").execSync("sqlite3 --version"); }`;
    const res = await deploy(acme.tenant, "spawner", bundle({ code: spawns, builtins: ["node:child_process"] }));
    const body = await res.text();
    expect(res.status, body).toBe(400);
    expect(JSON.parse(body).error.message).toMatch(/health check: the server failed to start: .*(child_process|not implemented|not available)/i);
    expect(body).not.toMatch(/\n\s+at |\.ts:\d+/);
    // A raw socket likewise: it would go around the egress allow-list.
    const dials = `export default async function (__smcp_require) { __smcp_require("cloudflare:sockets").connect("db.internal:5432"); }`;
    const refused = await deploy(acme.tenant, "dialer", bundle({ code: dials }));
    expect(refused.status).toBe(400);
    expect((await refused.json<any>()).error.message).toMatch(/cloudflare:sockets is not available in a sandbox \(raw TCP sockets are not given to deployed servers/);
  });

  it("deployed:sdk-packages — createRequire() reads package.json from the package files; serveStdio() gets { era } and the server's own transport", async () => {
    // As published servers do it: sequential-thinking reads its version through createRequire,
    // context7 wraps the stdio transport it gives serveStdio and reads the factory's context.
    const code = `export default async function (__smcp_require) {
      const m = __smcp_require("node:module");
      const require = m.createRequire("file:///app/dist/index.js");
      const seen = { version: require("../package.json").version, viaDefault: m.default.createRequire("/app/dist/x.js")("./../package.json").version };
      try { require("./package.json"); } catch (err) { seen.missing = err.code; }
      const { serveStdio, StdioServerTransport } = __smcp_require("smcp:stdio");
      const mine = new StdioServerTransport();
      const served = await new Promise((resolve) => serveStdio((context) => ({ connect: async (t) => resolve({ era: context?.era, mine: t === mine }) }), { transport: mine }));
      throw new Error("seen " + JSON.stringify({ ...seen, ...served }));
    }`;
    const res = await deploy(acme.tenant, "pkgjson", bundle({ code, builtins: ["node:module"], files: { "/app/package.json": { text: '{"name":"p","version":"9.8.7"}' } } }));
    const body = await res.text();
    expect(res.status, body).toBe(400);
    const seen = JSON.parse(/seen (\{.*\})/.exec(JSON.parse(body).error.message)![1]!);
    expect(seen).toEqual({ version: "9.8.7", viaDefault: "9.8.7", missing: "ENOENT", era: "legacy", mine: true });
  });

  it("deployed:instance-cap — a session whose server fails to start gets the reason and ends: it holds no instance slot", async () => {
    // Starts once (the deploy's check), then refuses: it remembers the first start in a file.
    const code = `export default async function (__smcp_require) {
      const fs = __smcp_require("smcp:fs/promises");
      if (await fs.readFile("/app/started", "utf8").catch(() => null)) throw new Error("the licence server is unreachable");
      await fs.writeFile("/app/started", "yes");
      ${rawServer.slice(rawServer.indexOf("{", rawServer.indexOf("export default")) + 1, rawServer.lastIndexOf("}"))}
    }`;
    expect((await deploy(acme.tenant, "once", bundle({ code }))).status).toBe(201);
    const res = await mcpFetch(mcpUrl(acme.tenant, "once"), { key: acme.key, body: rpc("initialize", initializeParams("2025-11-25")) });
    const sessionId = res.headers.get("mcp-session-id")!;
    const answer = await responseMessage(res);
    expect(answer.error.message).toMatch(/^Deployed server once \(v1\) failed to start: the server failed to start: the licence server is unreachable/);
    let listed = true;
    for (let i = 0; i < 40 && listed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      listed = (await adminOk("GET", `/tenants/${acme.tenant}/sessions`)).sessions.some((s: { id: string }) => s.id === sessionId);
    }
    expect(listed).toBe(false);
  });

  it("deployed:sdk-admin — shows kind, tools and the server's console with secrets redacted", async () => {
    await callTool(session, "log", { line: "token is s3cret-value-123" });
    let view: any;
    for (let i = 0; i < 40; i++) {
      view = await adminOk("GET", `/tenants/${acme.tenant}/servers/raw`);
      if (view.console.some((l: any) => l.line.includes("tenant log line"))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(view).toMatchObject({ kind: "deployed", format: "sdk", bundle: { kind: "stdio" }, tools: expect.arrayContaining(["echo", "log"]) });
    const line = view.console.find((l: any) => l.line.includes("tenant log line"));
    expect(line.line).not.toContain("s3cret-value-123");
    expect(JSON.stringify(view)).not.toContain("s3cret-value-123");
  });

  it("deployed:instance-cap — caps live instances per tenant: over the cap initialize gets 429 that says so", async () => {
    const capped = `sdk-cap-${crypto.randomUUID().slice(0, 8)}`;
    await adminOk("POST", "/tenants", { id: capped, limits: { maxInstances: 1 } }, 201);
    const { key } = await adminOk("POST", `/tenants/${capped}/keys`, { label: "k" }, 201);
    expect((await deploy(capped, "raw", bundle())).status).toBe(201);
    await openSession(mcpUrl(capped, "raw"), key);
    const res = await mcpFetch(mcpUrl(capped, "raw"), { key, body: rpc("initialize", initializeParams("2025-11-25")) });
    expect(res.status).toBe(429);
    expect(await res.text()).toMatch(/may run 1 live instances of its deployed servers/);
  });
});
