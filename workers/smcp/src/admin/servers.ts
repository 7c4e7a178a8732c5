/** `/admin/v1/tenants/{t}/servers`: enable, disable, purge and list the servers a tenant exposes. */
import { WireError, jsonResponse, wire } from "@smcp/runtime";
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

/** `DELETE .../servers/{s}` disables (the server's data stays); with `?purge=true` it purges. */
export async function deleteServer(request: Request, env: Env, tenant: string, server: string): Promise<Response> {
  const purge = new URL(request.url).searchParams.get("purge");
  if (purge === null || purge === "false") return disableServer(env, tenant, server);
  if (purge !== "true") throw wire.badRequest("invalid_purge", "purge must be true or false");
  return purgeServer(env, tenant, server);
}

/**
 * Disables the server, ends its sessions, then removes its files, tool data, secrets
 * and deployed versions. A session that could not be ended stops the purge with 503
 * before anything is removed; sending the DELETE again resumes. A server with nothing
 * left answers 200 again, so a repeat after a lost answer is harmless.
 */
export async function purgeServer(env: Env, tenant: string, server: string): Promise<Response> {
  const result = await tenantStub(env, tenant).purgeServer(server);
  if (!result.ok) {
    if (result.reason === "unknown-tenant") throw unknownTenant(tenant);
    throw new WireError({
      status: 503,
      code: "server_purge_incomplete",
      message: `Server ${server} is disabled but ${result.sessionsFailed.length} of its sessions could not be ended (${result.sessionsFailed.slice(0, 10).join(", ")}${result.sessionsFailed.length > 10 ? ", …" : ""}); nothing was removed yet; send DELETE again to retry`,
    });
  }
  return jsonResponse({ server, enabled: false, purged: true, removed: result.removed, sessionsEnded: result.sessionsEnded });
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
