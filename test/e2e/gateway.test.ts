/**
 * The gateway on the session lane against a real upstream (./upstream-server.ts: the
 * SDK's own v2 server on loopback, restartable). The official SDK client calls it
 * through SMCP.
 */
import type { AddressInfo } from "node:net";
import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { UPSTREAM_KEY, seen, startUpstream, stopUpstream as stop, urlOf } from "./upstream-server";

const platform = new Platform();
let acme: { tenant: string; key: string };
let upstream: http.Server;
const upstreamUrl = (path = "/mcp") => urlOf(upstream, path);

async function setSecret(tenant: string, server: string, name: string, value: string): Promise<void> {
  const res = await fetch(`${platform.url}/admin/v1/tenants/${tenant}/servers/${server}/secrets/${name}`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: value });
  expect(res.status, await res.text()).toBeLessThan(300);
}

beforeAll(async () => {
  upstream = await startUpstream();
  await platform.start();
  acme = await platform.tenant("gw-acme");
  await setSecret(acme.tenant, "remote", "UPSTREAM_KEY", UPSTREAM_KEY);
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/remote/upstream`, { url: upstreamUrl(), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
  await setSecret(acme.tenant, "wrong", "UPSTREAM_KEY", "not-the-key");
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/wrong/upstream`, { url: upstreamUrl(), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/down/upstream`, { url: upstreamUrl("/fail") });
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/moved/upstream`, { url: upstreamUrl("/moved") });
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stop(upstream);
});

describe("gateway, session lane", () => {
  it("upstream:session-relay upstream:front — the SDK client lists and calls an upstream's tools through SMCP, progress included; the secret header reaches the upstream, the client's SMCP key does not", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(client.getServerVersion()?.name).toBe("e2e-upstream");
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(["add", "echo", "flood", "log", "progress", "sample", "sample_standalone"]);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "hi" } }))).toBe("echo: hi");
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
    const progress: unknown[] = [];
    const result = await client.callTool({ name: "progress", arguments: {} }, { onprogress: (p) => progress.push(p) });
    expect(textOf(result)).toBe("done");
    expect(progress).toEqual([expect.objectContaining({ progress: 1, total: 2, message: "half way" })]);
    expect(seen.keys.filter((k) => k === UPSTREAM_KEY).length).toBeGreaterThan(3);
    expect([...seen.authorizations].some((a) => a.includes(acme.key))).toBe(false);
    await client.close();
  });

  it("upstream:session-relay — wrong upstream credentials give a JSON-RPC error that names the upstream, what to do and its authorization metadata", async () => {
    const error = await platform.connect(acme.tenant, "wrong", acme.key).then(
      () => null,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/Upstream wrong \(127\.0\.0\.1:\d+\) refused SMCP's credentials \(HTTP 401\)/);
    expect(error?.message).toContain("secret of server wrong");
    expect(error?.message).toContain("http://127.0.0.1/.well-known/oauth-protected-resource/mcp");
  });

  it("upstream:session-relay — an upstream that fails or redirects gives an error with its status; the redirect is not followed", async () => {
    const failed = (server: string) => platform.connect(acme.tenant, server, acme.key).then(() => null, (err: Error) => err.message);
    expect(await failed("down")).toMatch(/Upstream down \(127\.0\.0\.1:\d+\) answered initialize with HTTP 503/);
    expect(await failed("moved")).toMatch(/Upstream moved .* answered initialize with a redirect \(HTTP 307\); SMCP does not follow redirects/);
  });

  it("upstream:session-relay untrusted:messages — an upstream that sends more than 1000 messages about one call gets the call ended with an error; the session goes on", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    const flooded = await client.callTool({ name: "flood", arguments: {} }).then(() => null, (err: Error) => err.message);
    expect(flooded).toMatch(/Upstream remote .* sent more than 1000 messages about one call/);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "still here" } }))).toBe("echo: still here");
    await client.close();
  });

  it("upstream:session-relay — the upstream's sampling requests reach the client, on the call's stream and on the standalone stream, and the client's answers reach the upstream", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, {
      capabilities: { sampling: {} },
      setup: (c) => c.setRequestHandler("sampling/createMessage", async () => ({ model: "e2e", role: "assistant", content: { type: "text", text: "a sampled reply" } })),
    });
    expect(textOf(await client.callTool({ name: "sample", arguments: {} }))).toBe("sampled: a sampled reply");
    // The SDK's own requestSampling goes out on the upstream's standalone stream, which SMCP holds and relays to the client's.
    expect(textOf(await client.callTool({ name: "sample_standalone", arguments: {} }))).toBe("sampled: a sampled reply");
    await client.close();
  });

  it("upstream:session-relay — an upstream restarted mid-session is re-initialized without the client noticing, with the log level the client set", async () => {
    const logs: string[] = [];
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, {
      setup: (c) => c.setNotificationHandler("notifications/message", (n) => void logs.push(String(n.params.data))),
    });
    await client.setLoggingLevel("error");
    expect(textOf(await client.callTool({ name: "log", arguments: {} }))).toBe("logged");
    expect(logs).toEqual(["an error line"]);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "before" } }))).toBe("echo: before");
    const before = seen.initializes;
    const port = (upstream.address() as AddressInfo).port;
    await stop(upstream);
    upstream = await startUpstream(port);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("echo: after");
    expect(seen.initializes).toBe(before + 1);
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 1, b: 1 } }))).toBe("2");
    logs.length = 0;
    expect(textOf(await client.callTool({ name: "log", arguments: {} }))).toBe("logged");
    expect(logs).toEqual(["an error line"]);
    await client.close();
  });

  it("upstream:session-relay — a restart of SMCP re-opens the upstream session with the stored initialize", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "one" } }))).toBe("echo: one");
    const before = seen.initializes;
    await platform.stop();
    await platform.start();
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "two" } }))).toBe("echo: two");
    expect(seen.initializes).toBe(before + 1);
    await client.close();
  });
});
