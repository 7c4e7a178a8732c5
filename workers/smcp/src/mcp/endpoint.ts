/**
 * `/mcp/{tenant}/{server}`: the checks every MCP request passes, then the lane.
 *
 * Order matters and is fixed here: DNS-rebinding guard, method, authentication, body
 * (size, media type, JSON, JSON-RPC shape), then the SDK's era classification picks
 * the stateless lane (served in this Worker) or the session lane (forwarded to the
 * session's Durable Object).
 */
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { isOriginAllowed, looksLikeJsonRpc, platformConfig, readJsonBody, wire, type ParsedBody } from "@smcp/runtime";
import type { Env } from "../env";
import type { RequestContext } from "../request-context";
import { resolveServerModule } from "../sandbox/resolve-server";
import { authenticate } from "./authenticate";
import { MAX_FIELD_CHARS } from "./request-log";
import { admitRequest } from "./rate-limit";
import { serveSession } from "./session-lane";
import { serveStateless } from "./stateless-lane";

const ALLOWED_METHODS = "GET, POST, DELETE";

export async function handleMcp(request: Request, env: Env, tenant: string, server: string, rc: RequestContext): Promise<Response> {
  const config = platformConfig(env);
  rc.tenant = tenant;
  rc.server = server;
  rc.session = request.headers.get("mcp-session-id") ?? undefined;
  const origin = request.headers.get("origin");
  if (!isOriginAllowed(origin, config.SMCP_ALLOWED_ORIGINS)) {
    throw wire.forbidden("origin_not_allowed", `Origin ${origin} is not allowed`);
  }
  if (!ALLOWED_METHODS.includes(request.method)) throw wire.methodNotAllowed(ALLOWED_METHODS);
  if (headerBytes(request.headers) > config.SMCP_MAX_HEADER_BYTES) throw wire.headersTooLarge(config.SMCP_MAX_HEADER_BYTES);

  const principal = await authenticate(request, env, tenant, server);
  await admitRequest(env, tenant);
  const module = await resolveServerModule(env, tenant, server);
  if (!module) throw wire.notFound("unknown_server", `Server ${server} is not available`);

  let body: ParsedBody | null = null;
  if (request.method === "POST") {
    if (!isJsonMediaType(request.headers.get("content-type"))) throw wire.unsupportedMediaType();
    body = await readJsonBody(request, config.SMCP_MAX_BODY_BYTES);
    if (!looksLikeJsonRpc(body.json)) throw wire.invalidRequest("Invalid Request: body is not a JSON-RPC 2.0 message");
    describeCall(body.json, rc);
  }

  if (await isLegacyRequest(request, body?.json)) {
    rc.lane = "session";
    return serveSession(request, body, principal, env, rc.trace);
  }
  rc.lane = "stateless";
  return serveStateless(request, body?.json, module, principal, env, config.SMCP_MAX_BODY_BYTES, rc.trace);
}

/** Names the call for the request log line: the method of the first message, and the tool of a `tools/call`. */
function describeCall(json: unknown, rc: RequestContext): void {
  const first = (Array.isArray(json) ? json[0] : json) as { method?: unknown; params?: { name?: unknown } };
  // Cut like the session's request log: a client's names must not make log lines grow without bound.
  if (typeof first?.method === "string") rc.rpcMethod = first.method.slice(0, MAX_FIELD_CHARS);
  if (first?.method === "tools/call" && typeof first.params?.name === "string") rc.tool = first.params.name.slice(0, MAX_FIELD_CHARS);
}

function headerBytes(headers: Headers): number {
  let total = 0;
  for (const [name, value] of headers) total += name.length + value.length + 4;
  return total;
}

function isJsonMediaType(contentType: string | null): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === "application/json";
}
