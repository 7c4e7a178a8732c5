// Tenant-deployed servers under `wrangler dev`, driven by the official SDK client: the
// examples/ modules deployed as a user would (raw JavaScript PUT), on both lanes, with
// a real upstream on loopback reached through the egress allow-list.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples");
const converter = readFileSync(path.join(examples, "unit-converter.js"), "utf8");
const bookmarks = readFileSync(path.join(examples, "bookmarks.js"), "utf8");

const platform = new Platform();
let upstream: Server;
let upstreamHost = "";
let acme: { tenant: string; key: string };

async function deploy(tenant: string, server: string, source: string): Promise<Response> {
  return fetch(`${platform.url}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: source,
  });
}

beforeAll(async () => {
  // The upstream the bookmarks example fetches titles from; /moved redirects off the allow-list.
  upstream = createServer((req, res) => {
    if (req.url === "/moved") {
      res.writeHead(302, { location: "http://localhost:9/elsewhere" }).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html" }).end(`<html><head><title>Page ${req.url}</title></head></html>`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  await platform.start();
  acme = await platform.tenant("acme");
});
afterAll(async () => {
  await platform.dispose();
  await new Promise((resolve) => upstream.close(resolve));
});

describe.each(["session", "stateless"] as const)("%s lane", (lane) => {
  it("deployed:sandbox deployed:deployments-api — serves a deployed module like a built-in one", async () => {
    // The first lane deploys version 1 (201); the same bytes again are no new version (200).
    expect((await deploy(acme.tenant, "units", converter)).status).toBe(lane === "session" ? 201 : 200);
    const { client } = await platform.connect(acme.tenant, "units", acme.key, { lane });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["convert", "list_units"]);
    const result = await client.callTool({ name: "convert", arguments: { value: 10, from: "km", to: "mi" } });
    expect(result.structuredContent).toEqual({ value: 6.213711922, unit: "mi" });
    const { contents } = await client.readResource({ uri: "units://table" });
    expect(JSON.parse((contents[0] as { text: string }).text).mass).toContain("lb");
    await client.close();
  });
});

describe("bookmarks example", () => {
  it("deployed:sandbox egress:loopback — stores data and reaches only its allow-listed upstream, redirects included", async () => {
    expect((await deploy(acme.tenant, "bookmarks", bookmarks)).status).toBe(201);
    const { client } = await platform.connect(acme.tenant, "bookmarks", acme.key);
    const denied = await client.callTool({ name: "save_bookmark", arguments: { url: `http://${upstreamHost}/a` } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toBe(
      `SMCP egress: http://${upstreamHost} is not on the allow-list of server bookmarks, which allows no host yet; to allow it: PUT /admin/v1/tenants/${acme.tenant}/servers/bookmarks/egress {"allow":["${upstreamHost}"]}`,
    );

    const admin = platform.admin();
    await admin.call("PUT", `/tenants/${acme.tenant}/servers/bookmarks/egress`, { allow: [upstreamHost] });
    // A new session gets the new allow-list (this isolate forgot the old one at once).
    const second = await platform.connect(acme.tenant, "bookmarks", acme.key);
    const saved = await second.client.callTool({ name: "save_bookmark", arguments: { url: `http://${upstreamHost}/docs`, note: "read later" } });
    expect(saved.isError, textOf(saved)).toBeFalsy();
    expect(textOf(saved)).toMatch(/^Saved "Page \/docs"/);

    const moved = await second.client.callTool({ name: "save_bookmark", arguments: { url: `http://${upstreamHost}/moved` } });
    expect(moved.isError).toBe(true);
    expect(textOf(moved)).toMatch(/SMCP egress: http:\/\/localhost:9 is not on the allow-list of server bookmarks/);

    const stateless = await platform.connect(acme.tenant, "bookmarks", acme.key, { lane: "stateless" });
    const found = await stateless.client.callTool({ name: "search_bookmarks", arguments: { text: "read later" } });
    expect((found.structuredContent as { bookmarks: { title: string }[] }).bookmarks.map((b) => b.title)).toEqual(["Page /docs"]);

    const view = await admin.call("GET", `/tenants/${acme.tenant}/servers/bookmarks`);
    expect(view).toMatchObject({ kind: "deployed", version: 1, status: "serving", egress: [upstreamHost] });
    await Promise.all([client.close(), second.client.close(), stateless.client.close()]);
  });
});

describe("egress messages", () => {
  it("platform:error-messages deployed:sandbox — an allowed host that cannot be reached is named, not `internal error; reference = …`", async () => {
    const fetcher = `export default { tools: [{ name: "get", inputSchema: { type: "object" }, async handler(args) { const r = await fetch(args.url); return String(r.status); } }] };`;
    expect((await deploy(acme.tenant, "fetcher", fetcher)).status).toBe(201);
    // Port 9 (discard) on loopback: allowed here (SMCP_ALLOW_LOOPBACK_EGRESS), and nothing listens.
    await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/fetcher/egress`, { allow: ["localhost:9"] });
    const { client } = await platform.connect(acme.tenant, "fetcher", acme.key);
    const failed = await client.callTool({ name: "get", arguments: { url: "http://localhost:9/x" } });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toBe("SMCP egress: http://localhost:9 is on the allow-list but could not be reached (no such host, or the connection failed)");
    await client.close();
  });
});

describe("failures", () => {
  it("untrusted:messages deployed:deployments-api — a sandbox failure reaches the SDK client as a JSON-RPC error; a bad deploy keeps the old version", async () => {
    const huge = `export default { tools: [{ name: "dump", inputSchema: { type: "object" }, handler: () => "x".repeat(5e7) }] };`;
    expect((await deploy(acme.tenant, "dumper", huge)).status).toBe(201);
    const { client } = await platform.connect(acme.tenant, "dumper", acme.key);
    await expect(client.callTool({ name: "dump", arguments: {} })).rejects.toThrow(/answered more than 1048576 bytes/);

    const refused = await deploy(acme.tenant, "dumper", "export default { tools: [ ");
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/SyntaxError/);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["dump"]);
    await client.close();
  });
});
