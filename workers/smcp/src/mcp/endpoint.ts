/**
 * `/mcp/{tenant}/{server}`: the checks every MCP request passes, then the lane.
 *
 * Order matters and is fixed here: DNS-rebinding guard, method, authentication, body
 * (size, media type, JSON, JSON-RPC shape), then the SDK's era classification picks
 * the stateless lane (served in this Worker) or the session lane (forwarded to the
 * session's Durable Object).
 */
import { isLegacyRequest, type JSONRPCMessage } from "@modelcontextprotocol/server";
import { SERVED_REVISIONS, WireError, isOriginAllowed, jsonRpcErrorResponse, shownText, looksLikeJsonRpc, platformConfig, readJsonBody, wire, type ParsedBody } from "@smcp/runtime";
import type { Env } from "../env";
import type { RequestContext } from "../request-context";
import { resolveServer } from "../sandbox/resolve-server";
import { isUpstreamModule } from "../gateway/serving";
import { modernUpstreamOf, passThrough, servesModern } from "../gateway/modern-upstream";
import { withSseKeepalive } from "./sse-keepalive";
import { authenticate } from "./authenticate";
import { incarnationOf } from "./principal";
import { MAX_FIELD_CHARS } from "./request-log";
import { admitRequest } from "./rate-limit";
import { isPlainModernRequest, isPlainSessionRequest, serveSession } from "./session-lane";
import { traceMessage } from "../tracing/request-span";
import { endListenWhenRevoked, serveStateless } from "./stateless-lane";
import { recordIsolate } from "../metrics/isolate-sink";
import { kindOfHttpStatus } from "../metrics/error-kinds";

const ALLOWED_METHODS = "GET, POST, DELETE";
/** Exact names: a substring test of ALLOWED_METHODS would let "OST" or "GET, P" through. */
const ALLOWED_METHOD_SET = new Set(ALLOWED_METHODS.split(", "));

/**
 * The endpoint, with the refusals it answers itself to an authenticated caller counted in
 * the isolate's metrics (metrics/isolate-sink.ts): the session object and the stateless
 * lane count the rest.
 */
export async function handleMcp(request: Request, env: Env, tenant: string, server: string, rc: RequestContext): Promise<Response> {
  const started = Date.now();
  const seen: { incarnation: string | null } = { incarnation: null };
  // Only once the caller is authenticated: a stranger's request must reach no Durable Object,
  // not even a batched flush (failed authentications are the tenant's auth-failure tally).
  const refused = (status: number) => {
    if (seen.incarnation === null) return;
    recordIsolate(env, { tenant, incarnation: seen.incarnation, server, method: rc.rpcMethod ?? "other", tool: rc.tool ?? null, kind: kindOfHttpStatus(status), durationMs: Date.now() - started });
  };
  try {
    const response = await serveMcp(request, env, tenant, server, rc, seen);
    // A session refused at its start (limits, a revoked credential, the SDK's checks) has no object to count it.
    const refusedStart = rc.lane === "session" && rc.session === undefined && !response.headers.has("mcp-session-id");
    if (response.status >= 400 && (rc.lane === undefined || refusedStart)) refused(response.status);
    return response;
  } catch (err) {
    refused(err instanceof WireError ? err.status : 500);
    throw err;
  }
}

async function serveMcp(request: Request, env: Env, tenant: string, server: string, rc: RequestContext, seen: { incarnation: string | null }): Promise<Response> {
  const config = platformConfig(env);
  rc.tenant = tenant;
  rc.server = server;
  rc.session = request.headers.get("mcp-session-id") ?? undefined;
  const origin = request.headers.get("origin");
  if (!isOriginAllowed(origin, config.SMCP_ALLOWED_ORIGINS)) {
    throw wire.forbidden(
      "origin_not_allowed",
      `Origin ${shownText(origin!)} is not allowed: browsers may call this endpoint only from loopback origins or from one listed in SMCP_ALLOWED_ORIGINS (a platform setting)`,
    );
  }
  if (!ALLOWED_METHOD_SET.has(request.method)) throw wire.methodNotAllowed(ALLOWED_METHODS);
  if (headerBytes(request.headers) > config.SMCP_MAX_HEADER_BYTES) throw wire.headersTooLarge(config.SMCP_MAX_HEADER_BYTES);

  const principal = await authenticate(request, env, tenant, server);
  seen.incarnation = incarnationOf(principal);
  await admitRequest(env, tenant);
  // Resolved once, with the server's tool policy: the session lane hands both to the session object, which builds from them.
  const resolved = await resolveServer(env, tenant, incarnationOf(principal), server);
  if (!resolved) throw wire.notFound("unknown_server", `Server ${server} is not available`);

  let body: ParsedBody | null = null;
  if (request.method === "POST") {
    if (!isJsonMediaType(request.headers.get("content-type"))) throw wire.unsupportedMediaType();
    body = await readJsonBody(request, config.SMCP_MAX_BODY_BYTES);
    if (!looksLikeJsonRpc(body.json)) throw wire.invalidRequest("Invalid Request: body is not a JSON-RPC 2.0 message");
    describeCall(body.json, rc);
    body = traceMessage(rc, body, env);
  }

  const unsupported = unsupportedRevision(request, body?.json);
  if (unsupported) return unsupported;

  if (isPlainSessionRequest(request, body?.json) || (!isPlainModernRequest(request, body?.json) && (await isLegacyRequest(request, body?.json)))) {
    rc.lane = "session";
    return serveSession(request, body, principal, resolved.ref, resolved.policy, env, rc.trace);
  }
  rc.lane = "stateless";
  let ref = resolved.ref;
  if (isUpstreamModule(resolved.module) && ref?.kind !== "upstream") {
    // The cache let the entry go between the two look-ups: once more, for the ref the upstream object builds from.
    ref = (await resolveServer(env, tenant, incarnationOf(principal), server))?.ref;
    if (ref?.kind !== "upstream") throw new WireError({ status: 503, code: "upstream_unresolved", message: `Server ${server} could not be resolved just now; send the request again` });
  }
  if (isUpstreamModule(resolved.module) && ref?.kind === "upstream" && body && !Array.isArray(body.json)) {
    const modern = modernUpstreamOf(resolved.module.upstream, resolved.module.upstream.updatedAt, config.SMCP_ALLOW_LOOPBACK_EGRESS, config.SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS * 1000);
    if (await servesModern(modern)) {
      const passStarted = Date.now();
      const response = await passThrough(modern, body.json as JSONRPCMessage, request, resolved.policy);
      if ((body.json as { id?: unknown }).id !== undefined && seen.incarnation !== null) {
        const kind = response.status >= 400 ? kindOfHttpStatus(response.status, "upstream") : null;
        recordIsolate(env, { tenant, incarnation: seen.incarnation, server, method: rc.rpcMethod ?? "other", tool: rc.tool ?? null, kind, durationMs: Date.now() - passStarted });
      }
      // A listen stream that never writes never learns that its client left: the upstream's stream would be held for nobody.
      // A listen ends when its credential is revoked, as the stateless lane's own do.
      return (body.json as { method?: unknown }).method === "subscriptions/listen" ? endListenWhenRevoked(request, body.json, principal, env, withSseKeepalive(response)) : response;
    }
  }
  return serveStateless(request, body?.json, resolved.module, resolved.policy, principal, env, config.SMCP_MAX_BODY_BYTES, rc.trace, isUpstreamModule(resolved.module) ? ref : undefined);
}

/**
 * A session-lane request (a session id, or no 2026 `_meta` envelope) naming a revision this
 * URL does not serve is answered here, listing every revision it does serve on both lanes;
 * the SDK would name only its own lane's. A 2026-07-28 request with its envelope is left to
 * the SDK, whose answer lists what `server/discover` advertises, as that revision requires.
 */
function unsupportedRevision(request: Request, json: unknown): Response | null {
  const revision = request.headers.get("mcp-protocol-version");
  if (revision === null || (SERVED_REVISIONS as readonly string[]).includes(revision)) return null;
  const message = (Array.isArray(json) ? undefined : json) as { id?: unknown; params?: { _meta?: unknown } } | undefined;
  const modern = request.headers.get("mcp-session-id") === null && typeof message?.params?._meta === "object" && message.params._meta !== null;
  if (modern) return null;
  const id = typeof message?.id === "string" || typeof message?.id === "number" ? message.id : null;
  return jsonRpcErrorResponse(wire.unsupportedProtocolVersion(revision, SERVED_REVISIONS), id);
}

/** Names the call for the request log line: the method of the first message, and the tool of a `tools/call`. */
function describeCall(json: unknown, rc: RequestContext): void {
  const first = (Array.isArray(json) ? json[0] : json) as { method?: unknown; params?: { name?: unknown } };
  // Cut like the session's request log: a client's names must not make log lines grow without bound.
  if (typeof first?.method === "string") rc.rpcMethod = first.method.slice(0, MAX_FIELD_CHARS);
  if (first?.method === "tools/call" && typeof first.params?.name === "string") rc.tool = first.params.name.slice(0, MAX_FIELD_CHARS);
}

/** `forEach`, not the iterator: no entry array and no iterator step per header, on every request. */
function headerBytes(headers: Headers): number {
  let total = 0;
  headers.forEach((value, name) => {
    total += name.length + value.length + 4;
  });
  return total;
}

function isJsonMediaType(contentType: string | null): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === "application/json";
}
