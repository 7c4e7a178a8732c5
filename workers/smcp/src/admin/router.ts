/**
 * The admin API route table (SPEC section 6). Every route needs the platform admin
 * token, or a tenant admin key for routes of its own tenant (admin/tenant-scope.ts);
 * handlers run as their caller (admin/acting-caller.ts).
 */
import { jsonErrorResponse, wire } from "@smcp/runtime";
import type { Env } from "../env";
import { matchRoute, type Params, type Route } from "../routes";
import { activateDeployment, deploy, getDeployment, getServer, listDeployments, setEgress } from "./deployments";
import { createKey, listKeys, revokeKey } from "./keys";
import { cancelTask, listTasks } from "./tasks";
import { actAs } from "./acting-caller";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "./admin-keys";
import { requireAdmin } from "./require-admin";
import { scopeRefusal } from "./tenant-scope";
import { deleteUpstream, getUpstream, probeUpstreamNow, putUpstream } from "./upstream";
import { deletePolicy, getPolicy, putPolicy } from "./policy";
import { deleteSecret, listSecrets, putSecret, rekeySecrets } from "./secrets";
import { deleteServer, enableServer, listServers } from "./servers";
import { createCheckpoint, dropAudit, exportAudit, getAudit, listCheckpoints, verifyAudit } from "./audit";
import { getHealth } from "./health";
import { getPlatformMetrics, getServerSeries, getTenantMetrics } from "./metrics";
import { listGrants, revokeGrant, revokeSubjectGrants } from "./grants";
import { deleteIdentity, getIdentity, putIdentity } from "./identity";
import { deleteSession, getSession, getSessionEvents, getSessionRequests, listSessions } from "./sessions";
import { createTenant, deleteTenant, getTenant, listTenants, updateTenant } from "./tenants";

type AdminHandler = (request: Request, env: Env, p: Params) => Promise<Response>;

const T = "/admin/v1/tenants/:tenant";
const routes: Route<AdminHandler>[] = [
  { method: "POST", pattern: "/admin/v1/tenants", handler: (r, env) => createTenant(r, env) },
  { method: "GET", pattern: "/admin/v1/tenants", handler: (_r, env) => listTenants(env) },
  { method: "GET", pattern: T, handler: (_r, env, p) => getTenant(env, p.tenant!) },
  { method: "PATCH", pattern: T, handler: (r, env, p) => updateTenant(r, env, p.tenant!) },
  { method: "DELETE", pattern: T, handler: (_r, env, p) => deleteTenant(env, p.tenant!) },
  { method: "POST", pattern: `${T}/keys`, handler: (r, env, p) => createKey(r, env, p.tenant!) },
  { method: "GET", pattern: `${T}/keys`, handler: (_r, env, p) => listKeys(env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/keys/:key`, handler: (_r, env, p) => revokeKey(env, p.tenant!, p.key!) },
  { method: "GET", pattern: `${T}/servers`, handler: (_r, env, p) => listServers(env, p.tenant!) },
  { method: "PUT", pattern: `${T}/servers/:server`, handler: (_r, env, p) => enableServer(env, p.tenant!, p.server!) },
  { method: "DELETE", pattern: `${T}/servers/:server`, handler: (r, env, p) => deleteServer(r, env, p.tenant!, p.server!) },
  // Deployed (tenant-written) servers: admin/deployments.ts.
  { method: "GET", pattern: `${T}/servers/:server`, handler: (_r, env, p) => getServer(env, p.tenant!, p.server!) },
  { method: "PUT", pattern: `${T}/servers/:server/deployments`, handler: (r, env, p) => deploy(r, env, p.tenant!, p.server!) },
  { method: "GET", pattern: `${T}/servers/:server/deployments`, handler: (_r, env, p) => listDeployments(env, p.tenant!, p.server!) },
  { method: "GET", pattern: `${T}/servers/:server/deployments/:version`, handler: (r, env, p) => getDeployment(r, env, p.tenant!, p.server!, p.version!) },
  { method: "POST", pattern: `${T}/servers/:server/deployments/:version/activate`, handler: (_r, env, p) => activateDeployment(env, p.tenant!, p.server!, p.version!) },
  { method: "PUT", pattern: `${T}/servers/:server/egress`, handler: (r, env, p) => setEgress(r, env, p.tenant!, p.server!) },
  // Upstream (gateway) servers: admin/upstream.ts.
  { method: "PUT", pattern: `${T}/servers/:server/upstream`, handler: (r, env, p) => putUpstream(r, env, p.tenant!, p.server!) },
  { method: "GET", pattern: `${T}/servers/:server/upstream`, handler: (_r, env, p) => getUpstream(env, p.tenant!, p.server!) },
  { method: "DELETE", pattern: `${T}/servers/:server/upstream`, handler: (_r, env, p) => deleteUpstream(env, p.tenant!, p.server!) },
  { method: "POST", pattern: `${T}/servers/:server/upstream/probe`, handler: (_r, env, p) => probeUpstreamNow(env, p.tenant!, p.server!) },
  // Tool policies of every kind of server: admin/policy.ts.
  { method: "PUT", pattern: `${T}/servers/:server/policy`, handler: (r, env, p) => putPolicy(r, env, p.tenant!, p.server!) },
  { method: "GET", pattern: `${T}/servers/:server/policy`, handler: (_r, env, p) => getPolicy(env, p.tenant!, p.server!) },
  { method: "DELETE", pattern: `${T}/servers/:server/policy`, handler: (_r, env, p) => deletePolicy(env, p.tenant!, p.server!) },
  // Deployed servers' write-only secrets: admin/secrets.ts.
  { method: "GET", pattern: `${T}/servers/:server/secrets`, handler: (_r, env, p) => listSecrets(env, p.tenant!, p.server!) },
  { method: "PUT", pattern: `${T}/servers/:server/secrets/:secret`, handler: (r, env, p) => putSecret(r, env, p.tenant!, p.server!, p.secret!) },
  { method: "DELETE", pattern: `${T}/servers/:server/secrets/:secret`, handler: (_r, env, p) => deleteSecret(env, p.tenant!, p.server!, p.secret!) },
  { method: "POST", pattern: `${T}/secrets/rekey`, handler: (_r, env, p) => rekeySecrets(env, p.tenant!) },
  { method: "GET", pattern: `${T}/sessions`, handler: (_r, env, p) => listSessions(env, p.tenant!) },
  { method: "GET", pattern: `${T}/sessions/:session`, handler: (_r, env, p) => getSession(env, p.tenant!, p.session!) },
  { method: "GET", pattern: `${T}/sessions/:session/events`, handler: (r, env, p) => getSessionEvents(r, env, p.tenant!, p.session!) },
  { method: "GET", pattern: `${T}/sessions/:session/requests`, handler: (r, env, p) => getSessionRequests(r, env, p.tenant!, p.session!) },
  { method: "DELETE", pattern: `${T}/sessions/:session`, handler: (_r, env, p) => deleteSession(env, p.tenant!, p.session!) },
  // Tasks of the 2026-07-28 Tasks extension: admin/tasks.ts.
  { method: "GET", pattern: `${T}/tasks`, handler: (r, env, p) => listTasks(r, env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/tasks/:task`, handler: (_r, env, p) => cancelTask(env, p.tenant!, p.task!) },
  { method: "GET", pattern: `${T}/audit`, handler: (r, env, p) => getAudit(r, env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/audit`, handler: (r, env, p) => dropAudit(r, env, p.tenant!) },
  { method: "GET", pattern: `${T}/audit/verify`, handler: (r, env, p) => verifyAudit(r, env, p.tenant!) },
  { method: "GET", pattern: `${T}/audit/checkpoints`, handler: (_r, env, p) => listCheckpoints(env, p.tenant!) },
  { method: "POST", pattern: `${T}/audit/checkpoints`, handler: (_r, env, p) => createCheckpoint(env, p.tenant!) },
  { method: "GET", pattern: `${T}/audit/export`, handler: (r, env, p) => exportAudit(r, env, p.tenant!) },
  // OAuth grants: admin/grants.ts.
  { method: "GET", pattern: `${T}/grants`, handler: (r, env, p) => listGrants(r, env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/grants`, handler: (r, env, p) => revokeSubjectGrants(r, env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/grants/:grant`, handler: (_r, env, p) => revokeGrant(env, p.tenant!, p.grant!) },
  // Single sign-on: admin/identity.ts.
  { method: "PUT", pattern: `${T}/identity`, handler: (r, env, p) => putIdentity(r, env, p.tenant!) },
  { method: "GET", pattern: `${T}/identity`, handler: (r, env, p) => getIdentity(r, env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/identity`, handler: (_r, env, p) => deleteIdentity(env, p.tenant!) },
  { method: "GET", pattern: "/admin/v1/health", handler: (_r, env) => getHealth(env) },
  // Metrics: Prometheus scrapes and the dashboard's series (admin/metrics.ts).
  { method: "GET", pattern: "/admin/v1/metrics", handler: (_r, env) => getPlatformMetrics(env) },
  { method: "GET", pattern: `${T}/metrics`, handler: (_r, env, p) => getTenantMetrics(env, p.tenant!) },
  { method: "GET", pattern: `${T}/servers/:server/series`, handler: (r, env, p) => getServerSeries(r, env, p.tenant!, p.server!) },
  // Tenant admin keys: admin/admin-keys.ts.
  { method: "POST", pattern: `${T}/admin-keys`, handler: (r, env, p) => createAdminKey(r, env, p.tenant!) },
  { method: "GET", pattern: `${T}/admin-keys`, handler: (_r, env, p) => listAdminKeys(env, p.tenant!) },
  { method: "DELETE", pattern: `${T}/admin-keys/:key`, handler: (_r, env, p) => revokeAdminKey(env, p.tenant!, p.key!) },
];

export async function handleAdmin(request: Request, env: Env, path: string): Promise<Response> {
  const caller = await requireAdmin(request, env);
  const refused = scopeRefusal(caller, request.method, path);
  if (refused) throw refused;
  const match = matchRoute(routes, request.method, path);
  switch (match.kind) {
    case "found":
      return actAs(caller, () => match.handler(request, env, match.params));
    case "method-not-allowed":
      return jsonErrorResponse(wire.methodNotAllowed(match.allow));
    case "none":
      return jsonErrorResponse(wire.notFound("not_found", `No admin route ${request.method} ${path}`));
  }
}
