/**
 * What a tenant admin key may do (SPEC section 4): everything under its own tenant,
 * `/admin/v1/tenants/{its tenant}` and below (servers, deployments, egress, secrets,
 * keys, admin keys, sessions, audit), except the few calls below that stay with the
 * platform operator. The rule is by path prefix, so a route added under a tenant is a
 * tenant's to use unless it is listed here.
 *
 * | a tenant admin key may | stays with the platform admin token |
 * |---|---|
 * | `GET /tenants/{own}` | `POST /tenants`, `GET /tenants` |
 * | servers, deployments, egress, secrets, tool policies of {own} | `PATCH /tenants/{own}` (limits) |
 * | keys and admin keys of {own} (create, list, revoke) | `DELETE /tenants/{own}` |
 * | sessions of {own}: list, show, events, requests, terminate | `DELETE /tenants/{own}/audit` (drop an exported segment) |
 * | audit of {own}: read, verify, checkpoints, export | `GET /health`; every route of another tenant |
 * | OAuth grants of {own}: list, revoke | |
 * | the identity provider of {own} (single sign-on) | |
 *
 * A refusal is decided from the path alone, before any lookup, so it is the same 403
 * whether or not another tenant of that name exists.
 */
import type { WireError } from "@smcp/runtime";
import { matchRoute, type Route } from "../routes";
import { otherTenant, platformOnly } from "./acting-caller";
import type { AdminCaller } from "./require-admin";

const T = "/admin/v1/tenants/:tenant";
const PLATFORM_ONLY: Route<string>[] = [
  { method: "PATCH", pattern: T, handler: "Changing a tenant's limits" },
  { method: "DELETE", pattern: T, handler: "Deleting a tenant" },
  { method: "DELETE", pattern: `${T}/audit`, handler: "Dropping audit entries" },
];

/** Why `caller` may not make this call, or null when it may. */
export function scopeRefusal(caller: AdminCaller, method: string, path: string): WireError | null {
  if (caller.kind === "platform") return null;
  const [admin, v1, tenants, tenant] = path.split("/").filter(Boolean);
  const underTenants = admin === "admin" && v1 === "v1" && tenants === "tenants" && tenant !== undefined;
  if (!underTenants) return platformOnly(caller.tenant, `${method} ${path}`);
  if (tenant !== caller.tenant) return otherTenant(caller.tenant);
  const reserved = matchRoute(PLATFORM_ONLY, method, path);
  return reserved.kind === "found" ? platformOnly(caller.tenant, reserved.handler) : null;
}
