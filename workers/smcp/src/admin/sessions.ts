/**
 * `/admin/v1/tenants/{t}/sessions`: the tenant's session index, one session's live
 * view and event log, and terminate. A session is looked up in the tenant's index
 * first, so an admin URL naming a session of another tenant finds nothing.
 */
import { jsonResponse, sessionObjectName, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { nextCursor, readPage } from "./paging";
import { unknownTenant } from "./tenants";

export async function listSessions(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).listSessions();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ sessions: result.sessions });
}

async function sessionStub(env: Env, tenant: string, sessionId: string) {
  const stub = tenantStub(env, tenant);
  const [record, config] = await Promise.all([stub.getSession(sessionId), stub.info()]);
  if (!record || !config) throw wire.notFound("session_not_found", `No session ${sessionId} for tenant ${tenant}`);
  return env.SESSION.get(env.SESSION.idFromName(sessionObjectName(tenant, config.incarnation, record.server, sessionId)));
}

export async function getSession(env: Env, tenant: string, sessionId: string): Promise<Response> {
  const view = await (await sessionStub(env, tenant, sessionId)).inspect();
  if (!view) throw wire.notFound("session_not_found", `Session ${sessionId} has ended`);
  return jsonResponse(view);
}

export async function getSessionEvents(request: Request, env: Env, tenant: string, sessionId: string): Promise<Response> {
  const { after, limit } = readPage(request);
  const events = await (await sessionStub(env, tenant, sessionId)).events(after, limit);
  if (!events) throw wire.notFound("session_not_found", `Session ${sessionId} has ended`);
  // A priming event (empty data on the wire) is stored as `{}`; say so rather than leave admins guessing.
  const shown = events.map((e) => ({ ...e, priming: e.message === "{}", message: JSON.parse(e.message) }));
  return jsonResponse({ events: shown, next: nextCursor(events, limit) });
}

export async function getSessionRequests(request: Request, env: Env, tenant: string, sessionId: string): Promise<Response> {
  const { after, limit } = readPage(request);
  const requests = await (await sessionStub(env, tenant, sessionId)).requestLog(after, limit);
  if (!requests) throw wire.notFound("session_not_found", `Session ${sessionId} has ended`);
  return jsonResponse({ requests, next: nextCursor(requests, limit) });
}

export async function deleteSession(env: Env, tenant: string, sessionId: string): Promise<Response> {
  const session = await sessionStub(env, tenant, sessionId);
  // The session reports its end in a call of its own; the tenant notes who ended it for the audit row.
  await tenantStub(env, tenant).sessionTerminating(sessionId);
  const ended = await session.terminate();
  if (!ended) await tenantStub(env, tenant).sessionClosed(sessionId, "terminated");
  return jsonResponse({ terminated: sessionId });
}
