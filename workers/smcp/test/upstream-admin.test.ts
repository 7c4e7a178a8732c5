/**
 * The admin API of upstream servers (SPEC section 9, gateway/upstream-config.ts):
 * `PUT .../upstream` checks the URL against the egress rules and the headers against
 * what SMCP owns, keeps secret references as written, enables the server and is
 * audited; `GET` shows the stored form; `DELETE` disables the server. The pool runs
 * without SMCP_ALLOW_LOOPBACK_EGRESS, so loopback upstreams are refused here; the
 * relay itself is proven end to end (test/e2e/gateway.test.ts).
 */
import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { ADMIN_TOKEN, ORIGIN, admin, adminOk, mcpUrl, provisionTenant, responseMessage, statelessFetch } from "./helpers";

const MODULE = `export default { tools: [{ name: "hi", inputSchema: { type: "object" }, handler: () => "hi" }] };`;
const deploy = (tenant: string, server: string) =>
  SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: MODULE,
  });

const path = (tenant: string, server = "remote") => `/tenants/${tenant}/servers/${server}/upstream`;
const GOOD = "https://mcp.example.com/mcp";

async function refused(tenant: string, body: unknown): Promise<{ status: number; message: string }> {
  const res = await admin("PUT", path(tenant), body);
  const json = (await res.json()) as { error?: { message?: string } };
  return { status: res.status, message: json.error?.message ?? "" };
}

describe("PUT /admin/v1/tenants/{t}/servers/{s}/upstream", () => {
  it("upstream:admin — a valid upstream is stored with its secret references, enables the server, is audited, and GET and DELETE see it", async () => {
    const t = await provisionTenant({ prefix: "up", servers: [] });
    const put = await adminOk("PUT", path(t.tenant), { url: GOOD, headers: { Authorization: "Bearer ${secret:UPSTREAM_TOKEN}", "X-Team": "blue" } }, 201);
    expect(put).toMatchObject({ server: "remote", kind: "upstream", url: GOOD, headers: { authorization: "Bearer ${secret:UPSTREAM_TOKEN}", "x-team": "blue" }, secrets: ["UPSTREAM_TOKEN"] });
    expect((await adminOk("PUT", path(t.tenant), { url: GOOD })).headers).toEqual({});
    const got = await adminOk("GET", path(t.tenant));
    expect(got).toMatchObject({ url: GOOD, headers: {} });
    const servers = await adminOk("GET", `/tenants/${t.tenant}/servers`);
    expect(JSON.stringify(servers)).toContain('"remote"');
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    const actions = (audit.entries as { action: string; target: string }[]).filter((e) => e.target === "remote").map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["upstream.set", "server.enabled"]));
    expect(JSON.stringify(audit)).not.toContain("blue");
    await adminOk("DELETE", path(t.tenant));
    expect((await admin("GET", path(t.tenant))).status).toBe(404);
    expect(JSON.stringify(await adminOk("GET", `/tenants/${t.tenant}/servers`))).not.toContain('"remote"');
  });

  it("upstream:admin egress:loopback — bad URLs are refused with the reason: scheme, IP literals, loopback without SMCP_ALLOW_LOOPBACK_EGRESS, credentials, not a URL", async () => {
    const t = await provisionTenant({ prefix: "up-bad", servers: [] });
    const cases: [string, RegExp][] = [
      ["ftp://mcp.example.com/mcp", /http or https/],
      ["http://10.0.0.1/mcp", /IP address/],
      ["http://2130706433/mcp", /loopback/],
      ["https://[fd00::1]/mcp", /IP address/],
      ["http://localhost:8080/mcp", /SMCP_ALLOW_LOOPBACK_EGRESS/],
      ["http://127.0.0.1:8080/mcp", /SMCP_ALLOW_LOOPBACK_EGRESS/],
      ["https://user:pw@mcp.example.com/mcp", /credentials/],
      ["https://intranet/mcp", /not a public host name/],
      ["not a url", /not a URL/],
    ];
    for (const [url, reason] of cases) {
      const r = await refused(t.tenant, { url });
      expect(r.status, url).toBe(400);
      expect(r.message, url).toMatch(reason);
    }
    expect((await admin("GET", path(t.tenant))).status).toBe(404);
  });

  it("upstream:admin — headers SMCP owns, hop-by-hop headers, bad names and bad secret references are refused", async () => {
    const t = await provisionTenant({ prefix: "up-hdr", servers: [] });
    for (const name of ["Host", "Mcp-Session-Id", "MCP-Protocol-Version", "Connection", "Transfer-Encoding", "Upgrade", "TE", "Keep-Alive", "Proxy-Authorization"]) {
      const r = await refused(t.tenant, { url: GOOD, headers: { [name]: "x" } });
      expect(r.status, name).toBe(400);
      expect(r.message, name).toContain(`${name} cannot be configured`);
    }
    expect((await refused(t.tenant, { url: GOOD, headers: { "bad header": "x" } })).message).toMatch(/not a header name/);
    expect((await refused(t.tenant, { url: GOOD, headers: { "x-a": "a\r\nx-b: b" } })).message).toMatch(/line break/);
    expect((await refused(t.tenant, { url: GOOD, headers: { authorization: "Bearer ${secret:lower}" } })).message).toMatch(/not a secret name/);
    expect((await refused(t.tenant, { url: GOOD, extra: true })).status).toBe(400);
    expect((await admin("GET", path(t.tenant))).status).toBe(404);
  });

  it("upstream:admin upstream:stateless-relay — built-in names are refused; on the stateless lane an upstream that cannot be reached is a JSON-RPC error naming it, not a 500", async () => {
    const t = await provisionTenant({ prefix: "up-lane", servers: [] });
    const builtIn = await admin("PUT", path(t.tenant, "notes"), { url: GOOD });
    expect(builtIn.status).toBe(409);
    await builtIn.body?.cancel();
    await adminOk("PUT", path(t.tenant), { url: GOOD }, 201);
    const res = await statelessFetch(mcpUrl(t.tenant, "remote"), t.key!, "tools/list", {});
    expect(res.status).toBe(200);
    const message = await responseMessage(res);
    expect(message.error.message).toMatch(/Upstream remote/);
  });

  it("upstream:admin — the server view says it fronts an upstream; a name cannot be both deployed and an upstream", async () => {
    const t = await provisionTenant({ prefix: "up-kind", servers: [] });
    await adminOk("PUT", path(t.tenant), { url: GOOD, headers: { authorization: "Bearer ${secret:TOKEN}" } }, 201);
    expect(await adminOk("GET", `/tenants/${t.tenant}/servers/remote`)).toMatchObject({ kind: "upstream", url: GOOD, secrets: ["TOKEN"], enabled: true, status: "serving" });
    const onUpstream = await deploy(t.tenant, "remote");
    expect(onUpstream.status).toBe(409);
    expect(((await onUpstream.json()) as { error: { code: string } }).error.code).toBe("server_is_upstream");
    const deployed = await deploy(t.tenant, "local");
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const onDeployed = await admin("PUT", path(t.tenant, "local"), { url: GOOD });
    expect(onDeployed.status).toBe(409);
    expect(((await onDeployed.json()) as { error: { code: string } }).error.code).toBe("server_is_deployed");
  });
});
