/**
 * Per-tool policy with the official SDK client against a real upstream (./upstream-server.ts,
 * the SDK's v2 server on loopback) and a deployed SDK server (examples/v2-server, deployed
 * with `pnpm smcp deploy`): tools hidden and renamed, on both lanes where the server kind
 * is served on both (upstreams are served on the session lane only for now), and a policy
 * change heard as a list change by a live session and by a `subscriptions/listen` stream.
 */
import { execFile } from "node:child_process";
import type http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { UPSTREAM_KEY, startUpstream, stopUpstream, urlOf } from "./upstream-server";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const run = promisify(execFile);
const platform = new Platform();
let acme: { tenant: string; key: string };
let upstream: http.Server;

const policyPath = (server: string) => `/tenants/${acme.tenant}/servers/${server}/policy`;
const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
/** The error a call ends with, or null when it succeeded. */
const failure = (client: Client, name: string, args: Record<string, unknown> = {}) =>
  client.callTool({ name, arguments: args }).then(
    (r) => (r.isError ? textOf(r) : null),
    (err: Error) => err.message,
  );

/** Resolves when `client` hears `method`, or fails after a while (a failure, never a measurement). */
function heard(client: Client, method: "notifications/tools/list_changed"): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method} never arrived`)), 20_000);
    client.setNotificationHandler(method, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

beforeAll(async () => {
  upstream = await startUpstream();
  await platform.start();
  acme = await platform.tenant("pol-acme");
  const secret = await fetch(`${platform.url}/admin/v1/tenants/${acme.tenant}/servers/remote/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: UPSTREAM_KEY });
  expect(secret.status, await secret.text()).toBeLessThan(300);
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/remote/upstream`, { url: urlOf(upstream), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
  const { stdout } = await run(process.execPath, ["packages/cli/bin/smcp.mjs", "deploy", acme.tenant, "greeter", "examples/v2-server", "--url", platform.url, "--token", ADMIN_TOKEN], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1" },
  });
  expect(stdout).toMatch(/tools \(\d+\): greet, count, env_names/);
}, 180_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
});

describe("per-tool policy through SMCP", () => {
  it("policy:tools policy:view policy:calls — an upstream server's tools hidden and renamed: the SDK client lists the governed view, calls the new name, and the hidden and old names are unknown", async () => {
    // What the upstream itself answers for a tool it does not have, before any policy.
    const before = await platform.connect(acme.tenant, "remote", acme.key);
    const unknown = await failure(before.client, "no_such_tool");
    expect(unknown).toMatch(/no_such_tool/);
    await before.client.close();
    await platform.admin().call("PUT", policyPath("remote"), {
      allow: ["echo", "add"],
      rename: { echo: "say" },
      descriptions: { add: "Sum of a and b." },
    });
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);
    const listed = (await client.listTools()).tools;
    expect(listed.map((t) => t.name).sort()).toEqual(["add", "say"]);
    expect(listed.find((t) => t.name === "add")?.description).toBe("Sum of a and b.");
    expect(textOf(await client.callTool({ name: "say", arguments: { text: "hi" } }))).toBe("echo: hi");
    for (const hidden of ["echo", "flood", "progress", "no_such_tool"]) expect(await failure(client, hidden, { text: "x" })).toBe(unknown!.replace("no_such_tool", hidden));
    await client.close();
  });

  it("policy:tools policy:view policy:calls — a deployed SDK server's tools hidden and renamed, on the session lane and the stateless lane", async () => {
    await platform.admin().call("PUT", policyPath("greeter"), { deny: ["env_names"], rename: { greet: "hello" } });
    for (const lane of ["session", "stateless"] as const) {
      const { client } = await platform.connect(acme.tenant, "greeter", acme.key, { lane });
      expect(client.getServerCapabilities()?.tools?.listChanged, lane).toBe(true);
      expect(await names(client), lane).toEqual(["approve_report", "count", "hello", "slow_report"]);
      expect(textOf(await client.callTool({ name: "hello", arguments: { name: "Ada" } })), lane).toBe("Hello, Ada!");
      const unknown = await failure(client, "no_such_tool");
      for (const hidden of ["env_names", "greet"]) expect(await failure(client, hidden, { name: "x" }), `${lane} ${hidden}`).toBe(unknown!.replace("no_such_tool", hidden));
      await client.close();
    }
  });

  it("policy:announce — a policy change reaches a live session of the upstream server as tools/list_changed, and its next list is governed by it", async () => {
    await platform.admin().call("DELETE", policyPath("remote"));
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(await names(client)).toContain("flood");
    const changed = heard(client, "notifications/tools/list_changed");
    await platform.admin().call("PUT", policyPath("remote"), { deny: ["flood", "sample", "sample_standalone"] });
    await changed;
    expect(await names(client)).toEqual(["add", "echo", "log", "progress"]);
    await client.close();
  });

  it("policy:announce — a policy change reaches a subscriptions/listen stream of a deployed SDK server as tools/list_changed", async () => {
    const { client } = await platform.connect(acme.tenant, "greeter", acme.key, { lane: "stateless" });
    const changed = heard(client, "notifications/tools/list_changed");
    await client.listen({ toolsListChanged: true });
    await platform.admin().call("PUT", policyPath("greeter"), { allow: ["count"] });
    await changed;
    expect(await names(client)).toEqual(["count"]);
    await client.close();
  });
});
