/**
 * `/admin/v1/tenants/{t}/sessions`: the tenant's session index, one session's live
 * view and event log, and terminate. A session is looked up in the tenant's index
 * first, so an admin URL naming a session of another tenant finds nothing.
 */
import { jsonResponse, sessionObjectName, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { unknownTenant } from "./tenants";

export async function listSessions(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).listSessions();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ sessions: result.sessions });
}

async function sessionStub(env: Env, tenant: string, sessionId: string) {
  const record = await tenantStub(env, tenant).getSession(sessionId);
  if (!record) throw wire.notFound("session_not_found", `No session ${sessionId} for tenant ${tenant}`);
  return env.SESSION.get(env.SESSION.idFromName(sessionObjectName(tenant, record.server, sessionId)));
}

export async function getSession(env: Env, tenant: string, sessionId: string): Promise<Response> {
  const view = await (await sessionStub(env, tenant, sessionId)).inspect();
  if (!view) throw wire.notFound("session_not_found", `Session ${sessionId} has ended`);
  return jsonResponse(view);
}

export async function getSessionEvents(request: Request, env: Env, tenant: string, sessionId: string): Promise<Response> {
  const url = new URL(request.url);
  const after = Number(url.searchParams.get("after") ?? 0);
  const limit = Number(url.searchParams.get("limit") ?? 100);
  if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw wire.badRequest("invalid_query", "after must be an integer >= 0 and limit an integer in 1..1000");
  }
  const events = await (await sessionStub(env, tenant, sessionId)).events(after, limit);
  if (!events) throw wire.notFound("session_not_found", `Session ${sessionId} has ended`);
  const next = events.length === limit ? events[events.length - 1]!.seq : null;
  return jsonResponse({ events: events.map((e) => ({ ...e, message: JSON.parse(e.message) })), next });
}

export async function deleteSession(env: Env, tenant: string, sessionId: string): Promise<Response> {
  const ended = await (await sessionStub(env, tenant, sessionId)).terminate();
  if (!ended) await tenantStub(env, tenant).sessionClosed(sessionId);
  return jsonResponse({ terminated: sessionId });
}
