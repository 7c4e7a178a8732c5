/** `/admin/v1/tenants`: create, list, show, delete. */
import { isValidSegment, jsonResponse, platformConfig, sessionObjectName, wire } from "@smcp/runtime";
import { z } from "zod";
import { directoryStub, tenantStub, type Env } from "../env";
import type { TenantConfig } from "../tenant-do";
import { readBody } from "./read-body";

const LimitsSchema = z
  .object({
    requestsPerSecond: z.number().int().positive().optional(),
    maxSessions: z.number().int().positive().optional(),
    eventLogBytes: z.number().int().positive().optional(),
    toolDataBytes: z.number().int().positive().optional(),
    toolDataRows: z.number().int().positive().optional(),
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
  const result = await tenantStub(env, body.id).create({ id: body.id, name: body.name ?? body.id, auth, limits: body.limits ?? {} });
  if (!result.ok) throw wire.conflict("tenant_exists", `Tenant ${body.id} already exists`);
  await directoryStub(env).add(body.id);
  return jsonResponse(result.tenant, 201);
}

const UpdateTenant = z.object({ limits: LimitsSchema }).strict();

/** `PATCH /tenants/{t}` `{limits}`: changes the given limits, keeps the others. */
export async function updateTenant(request: Request, env: Env, tenant: string): Promise<Response> {
  const body = await readBody(request, UpdateTenant);
  const result = await tenantStub(env, tenant).setLimits(body.limits);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse(result.tenant);
}

export async function listTenants(env: Env): Promise<Response> {
  const ids = await directoryStub(env).list();
  const tenants = (await Promise.all(ids.map((id) => tenantStub(env, id).info()))).filter((t): t is TenantConfig => t !== null);
  return jsonResponse({ tenants });
}

export async function getTenant(env: Env, tenant: string): Promise<Response> {
  return jsonResponse(await requireTenant(env, tenant));
}

export async function deleteTenant(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).destroy();
  if (!result.ok) throw unknownTenant(tenant);
  await Promise.all(
    result.sessions.map((s) =>
      env.SESSION.get(env.SESSION.idFromName(sessionObjectName(tenant, s.server, s.id))).terminate(),
    ),
  );
  await directoryStub(env).remove(tenant);
  return jsonResponse({ deleted: tenant, sessionsEnded: result.sessions.length });
}

export async function requireTenant(env: Env, tenant: string): Promise<TenantConfig> {
  const info = await tenantStub(env, tenant).info();
  if (!info) throw unknownTenant(tenant);
  return info;
}

export const unknownTenant = (tenant: string) => wire.notFound("unknown_tenant", `Tenant ${tenant} does not exist`);
