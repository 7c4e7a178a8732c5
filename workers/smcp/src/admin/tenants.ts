/**
 * `/admin/v1/tenants`: create, list, show, delete.
 *
 * Creating and deleting a tenant each touch more than one object (the tenant's, the
 * directory's and, for a delete, every session's), so each is written as steps a
 * repeat of the same request completes: a create whose directory entry failed is
 * finished by sending the same POST again, and a delete that failed half-way by
 * sending the DELETE again (the tenant stays marked as being deleted until the last
 * step, see TenantDO.beginDestroy). The tenant's incarnation is internal: responses
 * leave it out.
 */
import { WireError, isValidSegment, jsonResponse, platformConfig, wire } from "@smcp/runtime";
import { z } from "zod";
import { directoryStub, tenantStub, type Env } from "../env";
import type { TenantConfig } from "../tenant/types";
import { readBody } from "./read-body";

const LimitsSchema = z
  .object({
    requestsPerSecond: z.number().int().positive().optional(),
    maxSessions: z.number().int().positive().optional(),
    eventLogBytes: z.number().int().positive().optional(),
    toolDataBytes: z.number().int().positive().optional(),
    toolDataRows: z.number().int().positive().optional(),
    maxInstances: z.number().int().positive().optional(),
  })
  .strict();

const CreateTenant = z
  .object({
    id: z.string().refine(isValidSegment, "id must match [a-z0-9][a-z0-9-]{0,62}"),
    name: z.string().min(1).max(200).optional(),
    auth: z.enum(["key", "none"]).optional(),
    limits: LimitsSchema.optional(),
  })
  .strict();

export async function createTenant(request: Request, env: Env): Promise<Response> {
  const body = await readBody(request, CreateTenant);
  const auth = body.auth ?? "key";
  if (auth === "none" && !platformConfig(env).SMCP_ALLOW_PUBLIC_TENANTS) {
    throw wire.badRequest("public_tenants_disabled", 'auth "none" needs SMCP_ALLOW_PUBLIC_TENANTS=true');
  }
  const init = { id: body.id, name: body.name ?? body.id, auth, limits: body.limits ?? {} };
  const result = await tenantStub(env, body.id).create(init);
  if (!result.ok) {
    if (result.reason === "deleting") {
      throw wire.conflict("tenant_deleting", `Tenant ${body.id} is being deleted; send DELETE /tenants/${body.id} again to finish, then create it`);
    }
    if (!sameSettings(result.tenant, init)) throw wire.conflict("tenant_exists", `Tenant ${body.id} already exists with other settings`);
    // The same create again: finish whatever the first one left undone (the directory entry).
    await directoryStub(env).add(body.id);
    return jsonResponse(publicView(result.tenant), 200);
  }
  await directoryStub(env).add(body.id);
  return jsonResponse(publicView(result.tenant), 201);
}

type Settings = Pick<TenantConfig, "name" | "auth" | "limits">;

function sameSettings(a: Settings, b: Settings): boolean {
  const limits = (l: Settings["limits"]) => JSON.stringify(Object.entries(l).sort(([x], [y]) => (x < y ? -1 : 1)));
  return a.name === b.name && a.auth === b.auth && limits(a.limits) === limits(b.limits);
}

/** A tenant as the admin API shows it: without its incarnation. */
export function publicView(config: TenantConfig): Omit<TenantConfig, "incarnation"> {
  const { incarnation: _, ...shown } = config;
  return shown;
}

const UpdateTenant = z.object({ limits: LimitsSchema }).strict();

/** `PATCH /tenants/{t}` `{limits}`: changes the given limits, keeps the others. */
export async function updateTenant(request: Request, env: Env, tenant: string): Promise<Response> {
  const body = await readBody(request, UpdateTenant);
  const result = await tenantStub(env, tenant).setLimits(body.limits);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse(publicView(result.tenant));
}

export async function listTenants(env: Env): Promise<Response> {
  const ids = await directoryStub(env).list();
  const tenants = (await Promise.all(ids.map((id) => tenantStub(env, id).info()))).filter((t): t is TenantConfig => t !== null);
  return jsonResponse({ tenants: tenants.map(publicView) });
}

export async function getTenant(env: Env, tenant: string): Promise<Response> {
  return jsonResponse(publicView(await requireTenant(env, tenant)));
}

/**
 * Marks the tenant as being deleted and ends its sessions; only when all have ended
 * does its directory entry go, then its storage. A session that could not be ended
 * stops the delete with 503 naming it (the tenant stays marked, admitting nothing);
 * sending the DELETE again resumes from the sessions still left.
 */
export async function deleteTenant(env: Env, tenant: string): Promise<Response> {
  const stub = tenantStub(env, tenant);
  const begun = await stub.beginDestroy();
  if (!begun.ok) throw unknownTenant(tenant);
  if (begun.sessionsFailed.length > 0) {
    throw new WireError({
      status: 503,
      code: "tenant_delete_incomplete",
      message: `Tenant ${tenant} is being deleted but ${begun.sessionsFailed.length} of its sessions could not be ended (${begun.sessionsFailed.slice(0, 10).join(", ")}${begun.sessionsFailed.length > 10 ? ", …" : ""}); send DELETE again to retry`,
    });
  }
  await directoryStub(env).remove(tenant);
  const finished = await stub.finishDestroy();
  if (!finished.ok) throw unknownTenant(tenant);
  return jsonResponse({ deleted: tenant, sessionsEnded: begun.sessionsEnded });
}

export async function requireTenant(env: Env, tenant: string): Promise<TenantConfig> {
  const info = await tenantStub(env, tenant).info();
  if (!info) throw unknownTenant(tenant);
  return info;
}

export const unknownTenant = (tenant: string) => wire.notFound("unknown_tenant", `Tenant ${tenant} does not exist`);
