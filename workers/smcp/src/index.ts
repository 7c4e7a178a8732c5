/**
 * The SMCP routing Worker: routes only. It matches the route, runs the guard for
 * it, and forwards to a Durable Object or the stateless lane. It keeps no session
 * state. Every error leaves through one place: wire errors keep their status,
 * anything else is logged and becomes a generic 500 with no detail.
 */
import { jsonErrorResponse, jsonResponse, jsonRpcErrorResponse, shownText, toWireError, wire } from "@smcp/runtime";
import { handleAdmin } from "./admin/router";
import { serveDashboard } from "./dashboard/handler";
import type { Env } from "./env";
import { handleMcp } from "./mcp/endpoint";
import { setMetricsSwitch } from "./metrics/switch";
import { protectedResourceMetadata } from "./mcp/resource-metadata";
import { oauthRoutes } from "./oauth/routes";
import { logEvent } from "./log";
import { logRequest } from "./access-log";
import type { RequestContext } from "./request-context";
import { matchRoute, type Params, type Route } from "./routes";
import { traceOf } from "./trace";
import { traceResponse } from "./tracing/request-span";

export { DirectoryDO } from "./directory-do";
export { SessionDO } from "./session-do";
export { TenantDO } from "./tenant-do";
export { OAuthLimiterDO } from "./oauth/limiter-do";
export { ListenBusDO } from "./mcp/listen-bus-do";
export { UpstreamPrincipalDO } from "./gateway/principal-upstream-do";
export { ReportShardDO } from "./tenant/report-shard-do";
export { TaskDO } from "./tasks/task-do";
export { SandboxEgress, SandboxStore } from "./sandbox/entrypoints";
export { SandboxFiles } from "./sandbox/files/entrypoint";

type Handler = (request: Request, env: Env, params: Params, rc: RequestContext) => Promise<Response>;

const mcp: Handler = (request, env, p, rc) => handleMcp(request, env, p.tenant!, p.server!, rc);
const healthz: Handler = async (_request, env) => jsonResponse({ ok: true, version: env.SMCP_VERSION ?? "dev" });
const metadata: Handler = async (request, _env, p) => protectedResourceMetadata(request, p.tenant!, p.server!);
/** `GET /`: a person who opens the bare origin learns where to go next. */
const home: Handler = async (request, env) => {
  const origin = new URL(request.url).origin;
  return jsonResponse({
    name: "SMCP",
    version: env.SMCP_VERSION ?? "dev",
    mcp: `${origin}/mcp/{tenant}/{server}`,
    dashboard: `${origin}/admin`,
    adminApi: `${origin}/admin/v1 (Authorization: Bearer $SMCP_ADMIN_TOKEN)`,
    health: `${origin}/healthz`,
    docs: "README.md of the SMCP repository",
  });
};

const routes: Route<Handler>[] = [
  { method: "POST", pattern: "/mcp/:tenant/:server", handler: mcp },
  { method: "GET", pattern: "/mcp/:tenant/:server", handler: mcp },
  { method: "DELETE", pattern: "/mcp/:tenant/:server", handler: mcp },
  { method: "GET", pattern: "/.well-known/oauth-protected-resource/mcp/:tenant/:server", handler: metadata },
  { method: "GET", pattern: "/healthz", handler: healthz },
  { method: "GET", pattern: "/", handler: home },
  ...oauthRoutes,
  { method: "GET", pattern: "/admin", handler: serveDashboard },
];

async function route(request: Request, env: Env, rc: RequestContext, path: string): Promise<Response> {
  if (path === "/admin/v1" || path.startsWith("/admin/v1/")) return handleAdmin(request, env, path);
  const match = matchRoute(routes, request.method, path);
  switch (match.kind) {
    case "found":
      return match.handler(request, env, match.params, rc);
    case "method-not-allowed":
      throw wire.methodNotAllowed(match.allow);
    case "none":
      throw wire.notFound("not_found", noRouteMessage(request.method, path));
  }
}

/** A wrong path gets the shape of the routes it may have meant (names are `[a-z0-9][a-z0-9-]{0,62}`). */
function noRouteMessage(method: string, path: string): string {
  const shown = shownText(path);
  const hint = path.startsWith("/mcp")
    ? "The MCP endpoint is /mcp/{tenant}/{server}, each name matching [a-z0-9][a-z0-9-]{0,62}"
    : path.startsWith("/admin")
      ? "The admin API is under /admin/v1/ (for example /admin/v1/tenants); the dashboard is /admin"
      : "Routes: /mcp/{tenant}/{server}, /admin, /admin/v1/…, /healthz; GET / lists them";
  return `No route for ${method} ${shown}. ${hint}`;
}

export default {
  async fetch(request: Request, env: Env, ctx?: ExecutionContext): Promise<Response> {
    const started = Date.now();
    setMetricsSwitch(env);
    const rc: RequestContext = { trace: traceOf(request) };
    const path = new URL(request.url).pathname;
    let response: Response;
    try {
      response = await route(request, env, rc, path);
    } catch (err) {
      const error = toWireError(err, (detail) =>
        logEvent("error", "unexpected error", { path, traceId: rc.trace.traceId, error: detail instanceof Error ? detail.stack : String(detail) }),
      );
      response = path.startsWith("/mcp/") ? jsonRpcErrorResponse(error) : jsonErrorResponse(error);
    }
    logRequest(env, request, response, rc, path, started);
    const traced = traceResponse(request, response, rc, env, started);
    // After the response, off its path: the span ends with the answer, then the buffer is flushed (tracing/request-span.ts).
    if (traced) ctx?.waitUntil(traced);
    return response;
  },
} satisfies ExportedHandler<Env>;
