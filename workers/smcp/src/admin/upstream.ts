/**
 * `/admin/v1/tenants/{t}/servers/{s}/upstream`: a remote MCP server SMCP fronts
 * (SPEC section 9). `PUT {url, headers?}` checks the URL and headers
 * (gateway/upstream-config.ts), stores them in the tenant's object and enables the
 * server; `GET` shows them as stored (secret references, never their values);
 * `DELETE` removes them and disables the server. Built-in names are refused, and so
 * is a name tenant code is deployed under. Audited by the tenant (`upstream.set`,
 * `upstream.deleted`: the URL and header names, never values).
 *
 * Health (tenant/upstream-health.ts): `GET` shows the last probe's verdict and the
 * schedule; `POST .../upstream/probe` runs a probe now and answers with its verdict
 * (audited `upstream.probed`); a `PUT` schedules the first probe at once.
 */
import { jsonResponse, platformConfig, wire } from "@smcp/runtime";
import { builtInServers } from "@smcp/servers";
import { z } from "zod";
import { tenantStub, type Env } from "../env";
import { checkUpstream, secretRefs, MAX_UPSTREAM_HEADERS } from "../gateway/upstream-config";
import { forgetResolvedServer } from "../sandbox/resolve-server";
import { readBody } from "./read-body";
import { unknownTenant } from "./tenants";

const PutUpstream = z
  .object({
    url: z.string().min(1),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();

function refuseBuiltIn(server: string): void {
  if (builtInServers.has(server)) throw wire.conflict("server_is_built_in", `${server} is a built-in server; front your upstream under another name`);
}

/** `PUT .../upstream`: 201 new, 200 replaced. */
export async function putUpstream(request: Request, env: Env, tenant: string, server: string): Promise<Response> {
  refuseBuiltIn(server);
  const body = await readBody(request, PutUpstream);
  if (Object.keys(body.headers ?? {}).length > MAX_UPSTREAM_HEADERS) throw wire.badRequest("invalid_upstream", `headers: at most ${MAX_UPSTREAM_HEADERS}`);
  const checked = checkUpstream(body, { allowLoopback: platformConfig(env).SMCP_ALLOW_LOOPBACK_EGRESS });
  if (!checked.ok) throw wire.badRequest("invalid_upstream", checked.reason);
  const stored = await tenantStub(env, tenant).upstreamPut(server, { ...checked.value, updatedAt: Date.now() });
  if (!stored.ok) {
    if (stored.reason === "deployed") throw wire.conflict("server_is_deployed", `Tenant code is deployed as ${server}; front the upstream under another name, or delete the server first`);
    throw unknownTenant(tenant);
  }
  forgetResolvedServer(tenant, server);
  return jsonResponse(view(server, checked.value), stored.created ? 201 : 200);
}

const noUpstream = (server: string) => wire.notFound("unknown_upstream", `Server ${server} fronts no upstream`);

export async function getUpstream(env: Env, tenant: string, server: string): Promise<Response> {
  refuseBuiltIn(server);
  const result = await tenantStub(env, tenant).upstreamGet(server);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value) throw noUpstream(server);
  return jsonResponse({ ...view(server, result.value), updatedAt: result.value.updatedAt, health: result.health });
}

/** `POST .../upstream/probe`: one probe now; 200 with the health it recorded. */
export async function probeUpstreamNow(env: Env, tenant: string, server: string): Promise<Response> {
  refuseBuiltIn(server);
  const result = await tenantStub(env, tenant).upstreamProbe(server);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value) throw noUpstream(server);
  return jsonResponse({ server, health: result.value });
}

export async function deleteUpstream(env: Env, tenant: string, server: string): Promise<Response> {
  refuseBuiltIn(server);
  const result = await tenantStub(env, tenant).upstreamDelete(server);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.deleted) throw noUpstream(server);
  forgetResolvedServer(tenant, server);
  return jsonResponse({ server, deleted: true });
}

const view = (server: string, c: { url: string; headers: Record<string, string> }) => ({
  server,
  kind: "upstream",
  url: c.url,
  headers: c.headers,
  secrets: secretRefs(c.headers),
});
