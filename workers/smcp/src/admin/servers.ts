/** `/admin/v1/tenants/{t}/servers`: enable, disable and list the servers a tenant exposes. */
import { jsonResponse, wire } from "@smcp/runtime";
import { builtInServers } from "@smcp/servers";
import { tenantStub, type Env } from "../env";
import { unknownTenant } from "./tenants";

export async function enableServer(env: Env, tenant: string, server: string): Promise<Response> {
  const deployed = builtInServers.has(server) ? null : await tenantStub(env, tenant).deploymentList(server);
  if (deployed && !(deployed.ok && deployed.value.length > 0)) {
    throw wire.notFound("unknown_server", `No server named ${server}; available: ${[...builtInServers.keys()].join(", ")}, or deploy one (PUT .../servers/${server}/deployments)`);
  }
  const result = await tenantStub(env, tenant).enableServer(server);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ server, enabled: true }, result.created ? 201 : 200);
}

export async function disableServer(env: Env, tenant: string, server: string): Promise<Response> {
  const result = await tenantStub(env, tenant).disableServer(server);
  if (!result.ok) {
    throw result.reason === "unknown-tenant" ? unknownTenant(tenant) : wire.notFound("unknown_server", `Server ${server} is not enabled`);
  }
  return jsonResponse({ server, enabled: false });
}

export async function listServers(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).listServers();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ servers: result.servers, available: [...builtInServers.keys()] });
}
