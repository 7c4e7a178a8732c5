/**
 * The gateway on both client lanes: 2026-07-28 (stateless) clients in front of a
 * 2025-era upstream (the SDK's v2 server, ./upstream-server.ts), and a 2025-only
 * upstream built with the v1 SDK (`@modelcontextprotocol/sdk`'s Node Streamable HTTP
 * server transport) driven through SMCP on both lanes. The official SDK client calls
 * through SMCP.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { UPSTREAM_KEY, seen, startUpstream, startV1Upstream, stopUpstream, urlOf } from "./upstream-server";

const platform = new Platform();
let acme: { tenant: string; key: string };
let globex: { tenant: string; key: string };
let upstream: http.Server;
let v1: http.Server;
let modern: http.Server;

async function setSecret(tenant: string, server: string, name: string, value: string): Promise<void> {
  const res = await fetch(`${platform.url}/admin/v1/tenants/${tenant}/servers/${server}/secrets/${name}`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: value });
  expect(res.status, await res.text()).toBeLessThan(300);
}

async function front(tenant: string, server: string, url: string, key = UPSTREAM_KEY): Promise<void> {
  await setSecret(tenant, server, "UPSTREAM_KEY", key);
  await platform.admin().call("PUT", `/tenants/${tenant}/servers/${server}/upstream`, { url, headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
}

/** Waits for `condition`, failing with `what` when it does not come true in a generous bound. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  upstream = await startUpstream();
  v1 = await startV1Upstream();
  modern = await startUpstream(0, { era: "2026" });
  await platform.start();
  acme = await platform.tenant("gl-acme");
  globex = await platform.tenant("gl-globex");
  await front(acme.tenant, "remote", urlOf(upstream));
  await front(globex.tenant, "remote", urlOf(upstream));
  await front(acme.tenant, "wrong", urlOf(upstream), "not-the-key");
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/legacy/upstream`, { url: urlOf(v1) });
  await front(acme.tenant, "modern", urlOf(modern));
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
  if (v1) await stopUpstream(v1);
  if (modern) await stopUpstream(modern);
});

describe("gateway, stateless lane, 2025-era upstream", () => {
  it("upstream:stateless-relay upstream:front — a 2026 client lists and calls an upstream's tools through SMCP, progress included; the upstream is spoken to in 2025-11-25 with the secret header, never the client's key", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, { lane: "stateless" });
    expect(client.getServerVersion()?.name).toBe("e2e-upstream");
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toContain("echo");
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "modern" } }))).toBe("echo: modern");
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 4, b: 5 } }))).toBe("9");
    const progress: unknown[] = [];
    expect(textOf(await client.callTool({ name: "progress", arguments: {} }, { onprogress: (p) => progress.push(p) }))).toBe("done");
    expect(progress).toEqual([expect.objectContaining({ progress: 1, total: 2, message: "half way" })]);
    expect([...seen.protocolVersions]).toEqual(["2025-11-25"]);
    expect([...seen.authorizations].some((a) => a.includes(acme.key))).toBe(false);
    await client.close();
  });

  it("upstream:stateless-principal — one upstream session per principal: one caller's requests share one, another tenant's caller gets its own; SMCP declares what the client declared (sampling included: it is bridged into input rounds)", async () => {
    const before = seen.initializes;
    const declared = { experimental: { "e2e/flag": { on: true } }, sampling: {} };
    const { client } = await platform.connect(globex.tenant, "remote", globex.key, { lane: "stateless", capabilities: declared });
    for (const text of ["a", "b", "c"]) expect(textOf(await client.callTool({ name: "echo", arguments: { text } }))).toBe(`echo: ${text}`);
    expect(seen.initializes - before).toBe(1);
    expect(seen.clientCapabilities.at(-1)).toEqual(declared);
    const other = await platform.connect(acme.tenant, "remote", acme.key, { lane: "stateless", capabilities: declared });
    expect(textOf(await other.client.callTool({ name: "echo", arguments: { text: "d" } }))).toBe("echo: d");
    expect(seen.initializes - before).toBe(2);
    await client.close();
    await other.client.close();
  });

  it("upstream:stateless-principal — an anonymous caller of a public tenant shares no upstream session: each of its requests gets one of its own, deleted when it is answered", async () => {
    const open = await platform.admin().call("POST", "/tenants", { id: "gl-public", auth: "none" });
    expect(open).toBeTruthy();
    await front("gl-public", "remote", urlOf(upstream));
    const withoutKey: typeof fetch = (url, init) => {
      const headers = new Headers(init?.headers);
      headers.delete("authorization");
      return fetch(url, { ...init, headers });
    };
    const initializes = seen.initializes;
    const closed = seen.sessionsClosed;
    const { client } = await platform.connect("gl-public", "remote", "none", { lane: "stateless", fetch: withoutKey });
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "anon" } }))).toBe("echo: anon");
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "anon again" } }))).toBe("echo: anon again");
    const opened = seen.initializes - initializes;
    expect(opened).toBeGreaterThanOrEqual(3);
    await until(() => seen.sessionsClosed - closed >= opened, "every anonymous upstream session was deleted");
    await client.close();
  });

  it("upstream:stateless-relay — an upstream restart forgets its sessions; SMCP opens a new one for the next request without the client noticing", async () => {
    const { client } = await platform.connect(globex.tenant, "remote", globex.key, { lane: "stateless" });
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "before" } }))).toBe("echo: before");
    const port = (upstream.address() as AddressInfo).port;
    await stopUpstream(upstream);
    upstream = await startUpstream(port);
    const before = seen.initializes;
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("echo: after");
    expect(seen.initializes - before).toBe(1);
    await client.close();
  });

  it("upstream:stateless-relay — wrong upstream credentials give a JSON-RPC error that names the upstream and what to do", async () => {
    // The SDK client may go on without its discovery answer; the first call it makes then gets the error.
    const error = await platform
      .connect(acme.tenant, "wrong", acme.key, { lane: "stateless" })
      .then(({ client }) => client.listTools())
      .then(
        () => null,
        (err: Error) => err,
      );
    expect(error?.message).toMatch(/Upstream wrong \(127\.0\.0\.1:\d+\) refused SMCP's credentials \(HTTP 401\)/);
    expect(error?.message).toContain("secret of server wrong");
  });

  it("upstream:stateless-listen — an upstream's list change reaches 2026 listeners; its standalone stream is held while they listen and its session deleted when the last goes", async () => {
    let heard = 0;
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, {
      lane: "stateless",
      setup: (c) => c.setNotificationHandler("notifications/tools/list_changed", () => void heard++),
    });
    const beforeInit = seen.initializes;
    const subscription = await client.listen({ toolsListChanged: true });
    // The listen session is open once the upstream saw its initialize; announcing before it holds its stream could be missed, so announce until heard.
    await until(() => seen.initializes > beforeInit, "the listen session initialized");
    await until(() => {
      if (heard === 0) void fetch(urlOf(upstream, "/announce"), { method: "POST" });
      return heard > 0;
    }, "a list change reached the listener");
    const closed = seen.sessionsClosed;
    await subscription.close();
    await client.close();
    await until(() => seen.sessionsClosed > closed, "the listen session was deleted after the last listener went");
  });
});

describe("gateway, v1 SDK upstream (2025 only)", () => {
  it("upstream:v1-upstream — the v1 SDK's Node Streamable HTTP server behind SMCP serves the official v2 client on the session lane and on the stateless lane", async () => {
    for (const lane of ["session", "stateless"] as const) {
      const { client } = await platform.connect(acme.tenant, "legacy", acme.key, { lane });
      expect(client.getServerVersion()?.name).toBe("e2e-upstream-v1");
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
      expect(textOf(await client.callTool({ name: "echo", arguments: { text: lane } }))).toBe(`v1 echo: ${lane}`);
      await client.close();
    }
  });
});

describe("gateway, 2026-era upstream", () => {
  it("upstream:2026-upstream upstream:front — a 2026 client reaches an upstream that serves 2026-07-28 itself by pass-through: discovery, tools and progress; the client's own declaration reaches the upstream, its SMCP key does not", async () => {
    const declared = { experimental: { "e2e/modern": { on: true } } };
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, { lane: "stateless", capabilities: declared });
    expect(client.getServerVersion()?.name).toBe("e2e-upstream");
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("echo");
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "through" } }))).toBe("echo: through");
    const progress: unknown[] = [];
    expect(textOf(await client.callTool({ name: "progress", arguments: {} }, { onprogress: (p) => progress.push(p) }))).toBe("done");
    expect(progress).toEqual([expect.objectContaining({ progress: 1, total: 2 })]);
    expect(seen.modernCapabilities.at(-1)).toMatchObject(declared);
    expect([...seen.authorizations].some((a) => a.includes(acme.key))).toBe(false);
    await client.close();
  });

  it("upstream:2026-upstream-session — a 2025 session-lane client in front of a 2026-only upstream: SMCP keeps the session and sends each request upstream as a stateless 2026 one, with the capabilities the client declared at initialize", async () => {
    const declared = { experimental: { "e2e/session": { on: true } } };
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, { lane: "session", capabilities: declared });
    expect(client.getServerVersion()?.name).toBe("e2e-upstream");
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("add");
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 20, b: 22 } }))).toBe("42");
    const progress: unknown[] = [];
    expect(textOf(await client.callTool({ name: "progress", arguments: {} }, { onprogress: (p) => progress.push(p) }))).toBe("done");
    expect(progress).toEqual([expect.objectContaining({ progress: 1, total: 2 })]);
    expect(seen.modernCapabilities.at(-1)).toMatchObject(declared);
    await client.close();
  });

  it("upstream:2026-upstream upstream:2026-upstream-session — a 2026 upstream's list change reaches a 2026 client's listen stream (passed through) and a 2025 session's standalone stream (SMCP holds a listen upstream for the session)", async () => {
    const heard = { modern: 0, session: 0 };
    const modernClient = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "stateless",
      setup: (c) => c.setNotificationHandler("notifications/tools/list_changed", () => void heard.modern++),
    });
    const subscription = await modernClient.client.listen({ toolsListChanged: true });
    const sessionClient = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "session",
      setup: (c) => c.setNotificationHandler("notifications/tools/list_changed", () => void heard.session++),
    });
    // The session's upstream listen opens after its initialize: announce until both heard one.
    await until(() => {
      if (heard.modern === 0 || heard.session === 0) void fetch(urlOf(modern, "/announce"), { method: "POST" });
      return heard.modern > 0 && heard.session > 0;
    }, "a 2026 upstream's list change reached both clients");
    await subscription.close();
    await modernClient.client.close();
    await sessionClient.client.close();
  });
});

describe("gateway, tool policy on the new paths", () => {
  it("upstream:stateless-relay upstream:2026-upstream upstream:2026-upstream-session policy:view — a policy hides and renames an upstream's tools for a 2026 client of a 2025 upstream, and for both lanes in front of a 2026 upstream", async () => {
    await front(acme.tenant, "gov", urlOf(upstream));
    await front(acme.tenant, "gov-modern", urlOf(modern));
    for (const server of ["gov", "gov-modern"]) {
      await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/${server}/policy`, { allow: ["echo", "add"], rename: { echo: "say" } });
    }
    for (const [server, lane] of [["gov", "stateless"], ["gov-modern", "stateless"], ["gov-modern", "session"]] as const) {
      const { client } = await platform.connect(acme.tenant, server, acme.key, { lane });
      expect((await client.listTools()).tools.map((t) => t.name).sort(), `${server} ${lane}`).toEqual(["add", "say"]);
      expect(textOf(await client.callTool({ name: "say", arguments: { text: "governed" } })), `${server} ${lane}`).toBe("echo: governed");
      const hidden = await client.callTool({ name: "progress", arguments: {} }).then(
        (r) => JSON.stringify(r),
        (err: Error) => err.message,
      );
      expect(hidden, `${server} ${lane}`).toMatch(/progress/);
      expect(hidden, `${server} ${lane}`).not.toMatch(/"done"/);
      await client.close();
    }
  });
});
