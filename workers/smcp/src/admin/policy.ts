/**
 * `/admin/v1/tenants/{t}/servers/{s}/policy`: which tools of a server clients see, under
 * which names and descriptions (policy/tool-policy.ts), for every kind of server
 * (built-in, module format, deployed SDK, upstream). `PUT {allow?, deny?, rename?,
 * descriptions?}` checks and stores it in the tenant's object; `GET` shows it; `DELETE`
 * removes it. The server must be enabled for the tenant. A change is audited by the tenant
 * (`policy.set`, `policy.deleted`), reaches this isolate at once and others within the
 * resolve cache's few seconds, and is announced as a list change: to the server's live
 * sessions (by the tenant object) and to its `subscriptions/listen` streams in every isolate.
 */
import { jsonResponse, wire } from "@smcp/runtime";
import { z } from "zod";
import { listenBusStub, tenantStub, type Env } from "../env";
import { logEvent } from "../log";
import { publishListsChanged } from "../mcp/listen-bus";
import { checkPolicy, MAX_POLICY_DESCRIPTION, MAX_POLICY_NAMES, type ToolPolicy } from "../policy/tool-policy";
import { forgetResolvedServer } from "../sandbox/resolve-server";
import { readBody } from "./read-body";
import { unknownTenant } from "./tenants";

// Shapes only, with generous outer bounds; checkPolicy gives the precise reasons.
const name = z.string().max(256);
const PutPolicy = z
  .object({
    allow: z.array(name).max(MAX_POLICY_NAMES * 2).optional(),
    deny: z.array(name).max(MAX_POLICY_NAMES * 2).optional(),
    rename: z.record(name, name).optional(),
    descriptions: z.record(name, z.string().max(MAX_POLICY_DESCRIPTION * 2)).optional(),
  })
  .strict();

/** `PUT .../policy`: 201 new, 200 replaced. */
export async function putPolicy(request: Request, env: Env, tenant: string, server: string): Promise<Response> {
  const body = await readBody(request, PutPolicy);
  const checked = checkPolicy(body);
  if (!checked.ok) throw wire.badRequest("invalid_policy", checked.reason);
  const policy: ToolPolicy = { ...checked.value, updatedAt: Date.now() };
  const stub = tenantStub(env, tenant);
  const stored = await stub.policyPut(server, policy);
  if (!stored.ok) {
    if (stored.reason === "unknown-server") throw unknownServer(tenant, server);
    throw unknownTenant(tenant);
  }
  await announce(env, tenant, stored.incarnation, server);
  return jsonResponse(view(server, policy), stored.created ? 201 : 200);
}

export async function getPolicy(env: Env, tenant: string, server: string): Promise<Response> {
  const result = await tenantStub(env, tenant).policyGet(server);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value) throw wire.notFound("unknown_policy", `Server ${server} has no tool policy: clients see all its tools as it lists them`);
  return jsonResponse(view(server, result.value));
}

export async function deletePolicy(env: Env, tenant: string, server: string): Promise<Response> {
  const result = await tenantStub(env, tenant).policyDelete(server);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.deleted) throw wire.notFound("unknown_policy", `Server ${server} has no tool policy`);
  await announce(env, tenant, result.incarnation, server);
  return jsonResponse({ server, deleted: true });
}

/** This isolate forgets the old policy now; listen streams of the server, in every isolate, hear of the change. */
async function announce(env: Env, tenant: string, incarnation: string, server: string): Promise<void> {
  forgetResolvedServer(tenant, server);
  await publishListsChanged(listenBusStub(env, tenant, incarnation, server), (error) =>
    logEvent("warn", "list change of a policy not published", { tenant, server, error: error.message }),
  );
}

const unknownServer = (tenant: string, server: string) =>
  wire.notFound("unknown_server", `Server ${server} is not enabled for tenant ${tenant}; enable it (PUT /admin/v1/tenants/${tenant}/servers/${server}), deploy it or front an upstream under that name first`);

const view = (server: string, p: ToolPolicy) => ({
  server,
  allow: p.allow ?? null,
  deny: p.deny ?? [],
  rename: p.rename ?? {},
  descriptions: p.descriptions ?? {},
  updatedAt: p.updatedAt,
});
