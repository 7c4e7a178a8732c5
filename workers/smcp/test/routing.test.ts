/** SPEC section 2: the route table, its name patterns and its JSON errors. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, expectNoStackTrace, mcpFetch, mcpUrl, provisionTenant, rpc, initializeParams } from "./helpers";

/** Errors are JSON: `{"error": {code, message}}`, or a JSON-RPC error under `/mcp/`. */
async function expectJsonError(res: Response, status: number): Promise<{ code: string | number; message: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expectNoStackTrace(text);
  const body = JSON.parse(text);
  expect(body.error.message).toEqual(expect.any(String));
  return body.error;
}

describe("routes", () => {
  it("routes:healthz — GET /healthz answers {ok: true, version}", async () => {
    const res = await SELF.fetch(`${ORIGIN}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true, version: "0.1.0" });
  });

  it("routes:404 — GET / says where to go instead of a bare 404", async () => {
    const res = await SELF.fetch(`${ORIGIN}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: "SMCP",
      version: "0.1.0",
      mcp: `${ORIGIN}/mcp/{tenant}/{server}`,
      dashboard: `${ORIGIN}/admin`,
      adminApi: `${ORIGIN}/admin/v1 (Authorization: Bearer $SMCP_ADMIN_TOKEN)`,
      health: `${ORIGIN}/healthz`,
      docs: "README.md of the SMCP repository",
    });
  });

  it("routes:404 — unknown routes get a 404 JSON error", async () => {
    for (const path of ["/nope", "/mcp", "/healthz/extra", "/admin/v2/tenants", "/.well-known/oauth-protected-resource"]) {
      const error = await expectJsonError(await SELF.fetch(`${ORIGIN}${path}`), 404);
      expect(error.code, path).toBe("not_found");
    }
    // Under /mcp/ the same 404 is a JSON-RPC error, as MCP clients expect.
    const rpcError = await expectJsonError(await SELF.fetch(`${ORIGIN}/mcp/acme`, { method: "POST" }), 404);
    expect(rpcError.code).toBe(-32000);
    // A wrong path is answered with the shape of the route it may have meant.
    expect(rpcError.message).toBe("No route for POST /mcp/acme. The MCP endpoint is /mcp/{tenant}/{server}, each name matching [a-z0-9][a-z0-9-]{0,62}");
    expect((await expectJsonError(await SELF.fetch(`${ORIGIN}/admin/v2/tenants`), 404)).message).toBe(
      "No route for GET /admin/v2/tenants. The admin API is under /admin/v1/ (for example /admin/v1/tenants); the dashboard is /admin",
    );
  });

  it("routes:names — tenant and server names outside [a-z0-9][a-z0-9-]{0,62} get 404", async () => {
    const { tenant, key } = await provisionTenant();
    const bad = [
      `/mcp/${tenant.toUpperCase()}/notes`,
      `/mcp/-${tenant}/notes`,
      `/mcp/${tenant}/Notes`,
      `/mcp/${tenant}/notes_v2`,
      `/mcp/${"a".repeat(64)}/notes`,
      `/mcp/${tenant}/notes/extra`,
      `/mcp/${tenant}%2Fx/notes`,
      `/mcp/${tenant}/no%20tes`,
    ];
    for (const path of bad) {
      const res = await mcpFetch(`${ORIGIN}${path}`, { key, body: rpc("initialize", initializeParams("2025-11-25")) });
      expect(res.status, path).toBe(404);
      expectNoStackTrace(await res.text());
    }
    // The longest valid name is still routed (to auth, which knows no such tenant).
    const longest = await mcpFetch(mcpUrl(`a${"-".repeat(62)}`, "notes"), { key, body: rpc("ping") });
    expect(longest.status).toBe(401);
  });

  it("routes:mcp — a known path with the wrong method gets 405 with Allow", async () => {
    const { tenant } = await provisionTenant();
    for (const method of ["PUT", "PATCH"]) {
      const res = await SELF.fetch(mcpUrl(tenant, "notes"), { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("POST, GET, DELETE");
      expectNoStackTrace(await res.text());
    }
    const health = await SELF.fetch(`${ORIGIN}/healthz`, { method: "POST" });
    expect(health.status).toBe(405);
    expect(health.headers.get("allow")).toBe("GET");
    const admin = await SELF.fetch(`${ORIGIN}/admin/v1/tenants`, { method: "PATCH", headers: { Authorization: "Bearer test-admin-token" } });
    await expectJsonError(admin, 405);
  });

  it("routes:resource-metadata auth:401 — RFC 9728 metadata names the MCP URL as the resource", async () => {
    const res = await SELF.fetch(`${ORIGIN}/.well-known/oauth-protected-resource/mcp/acme/notes`);
    expect(res.status).toBe(200);
    const body = await res.json<{ resource: string; bearer_methods_supported: string[] }>();
    expect(body.resource).toBe(`${ORIGIN}/mcp/acme/notes`);
    expect(body.bearer_methods_supported).toEqual(["header"]);
  });

  it("routes:mcp platform:error-messages — a server the tenant has not enabled, or that does not exist, gets 404 that says where its servers are listed and how one is added", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    for (const server of ["everything", "no-such-server"]) {
      const res = await mcpFetch(mcpUrl(tenant, server), { key, body: rpc("initialize", initializeParams("2025-11-25")) });
      expect(res.status, server).toBe(404);
      expect(res.headers.get("mcp-session-id")).toBeNull();
      const text = await res.text();
      expectNoStackTrace(text);
      expect(JSON.parse(text).error.message).toBe(
        `Server ${server} is not enabled for tenant ${tenant}. Its servers: GET /admin/v1/tenants/${tenant}/servers or npx pnpm@10 smcp servers ls ${tenant}; add one with PUT /admin/v1/tenants/${tenant}/servers/${server} (a built-in) or a deploy to …/servers/${server}/deployments`,
      );
    }
  });
});
