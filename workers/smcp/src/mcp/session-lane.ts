/**
 * The session lane (2025 revisions): find the session's Durable Object and forward.
 *
 * The Worker holds no session state. A new session's id is minted here, on
 * `initialize`, and the Durable Object is addressed by a name derived from tenant,
 * server and id, so the same id presented for another tenant or server reaches a
 * different, empty object and gets 404. Ids of the wrong shape are refused before
 * any Durable Object is touched.
 */
import { isInitializeRequest } from "@modelcontextprotocol/server";
import { STATELESS_REVISION, isWellFormedSessionId, newSessionId, sessionObjectName, wire, type ParsedBody } from "@smcp/runtime";
import type { Env } from "../env";
import type { Trace } from "../trace";
import { initializeParamsProblem } from "./initialize-bounds";
import type { ServerRef } from "../sandbox/resolve-server";
import type { ToolPolicy } from "../policy/tool-policy";
import { fromSessionAnswer } from "./session-answer";
import { answeredDespiteInterruption, requestIdsOf } from "./interrupted";
import { incarnationOf, type Principal } from "./principal";

export async function serveSession(
  request: Request,
  body: ParsedBody | null,
  principal: Principal,
  server: ServerRef | undefined,
  policy: ToolPolicy | null,
  env: Env,
  trace: Trace,
): Promise<Response> {
  const presented = request.headers.get("mcp-session-id");
  let sessionId: string;
  let isNew = false;
  if (presented === null) {
    if (!isInitializeCall(body?.json)) {
      throw wire.badRequest("session_required", "Bad Request: Mcp-Session-Id header is required (send initialize first)");
    }
    if (!isInitializeRequest(body?.json)) {
      throw wire.invalidParams("Invalid params: initialize needs protocolVersion, capabilities and clientInfo");
    }
    // Refused here, before any Durable Object is touched: nothing of it is stored anywhere.
    const problem = initializeParamsProblem((body?.json as { params?: unknown }).params);
    if (problem) throw wire.invalidParams(`Invalid params: ${problem}`);
    sessionId = newSessionId();
    isNew = true;
  } else {
    if (!isWellFormedSessionId(presented)) throw wire.sessionNotFound();
    sessionId = presented;
  }

  // A typed call: who is asking and what serves the URL travel as arguments, not headers.
  const stub = env.SESSION.get(env.SESSION.idFromName(sessionObjectName(principal.tenant, incarnationOf(principal), principal.server, sessionId)));
  // The body travels as an argument, already read: a streamed body would cost the object a read across the call, an I/O wait on every request.
  const forwarded = forwardedRequest(request, trace.traceparent);
  return answeredDespiteInterruption(
    async () => fromSessionAnswer(await stub.serve(forwarded, { principal, newSessionId: isNew ? sessionId : null, server, policy, traceparent: trace.traceparent, ...(body ? { body: body.text } : {}) })),
    requestIdsOf(body?.json),
  );
}

/**
 * What the session object gets of the client's request: method, URL and headers, with the
 * trace stamped, without the body's length (the body travels as text) and without the
 * credential. The caller is authenticated already and the object gets its principal, so the
 * raw key or token stays in the Worker, out of the object and the SDK's request info.
 */
export function forwardedRequest(request: Request, traceparent: string): Request {
  // The new request's headers are its own copy: edited in place, they are copied once.
  const forwarded = new Request(request.url, { method: request.method, headers: request.headers });
  forwarded.headers.set("traceparent", traceparent);
  for (const name of DROPPED_HEADERS) forwarded.headers.delete(name);
  return forwarded;
}

const DROPPED_HEADERS = ["content-length", "authorization", "cookie"];

function isInitializeCall(json: unknown): boolean {
  return (
    typeof json === "object" &&
    json !== null &&
    !Array.isArray(json) &&
    (json as { method?: unknown }).method === "initialize" &&
    "id" in json
  );
}

/**
 * A request of an established session that the SDK's era classification (`isLegacyRequest`)
 * would route to the session lane, told without it: a session id, a 2025 revision header (or
 * none) and one well-formed request or notification without the 2026-07-28 envelope claim.
 * The SDK's check runs three or more schema parses per request; this reads two headers and
 * mirrors the one schema that applies (`wellFormed`). Anything else goes to the SDK's check.
 */
export function isPlainSessionRequest(request: Request, json: unknown): boolean {
  if (request.method !== "POST" || request.headers.get("mcp-session-id") === null) return false;
  const revision = request.headers.get("mcp-protocol-version")?.trim();
  if (revision !== undefined && revision >= STATELESS_REVISION) return false;
  return wellFormed(json);
}

/**
 * A POST the SDK's era classification routes to the 2026-07-28 lane, told without it: one
 * request or notification (no response, not `initialize`) whose `params._meta` carries the
 * revision claim. The SDK answers such a body on its modern path whatever the rest holds
 * (a bad envelope or a header mismatch is the modern path's error), so `isLegacyRequest`
 * says false; the stateless lane's handler classifies it once more, the one check it needs.
 */
export function isPlainModernRequest(request: Request, json: unknown): boolean {
  if (request.method !== "POST" || !isObject(json) || typeof json.method !== "string" || json.method === "initialize") return false;
  if ("result" in json || "error" in json) return false;
  return isObject(json.params) && isObject(json.params._meta) && ENVELOPE_CLAIM in json.params._meta;
}

/** The `_meta` key a 2026-07-28 message claims its revision with, and the SDK's related-task key. */
const ENVELOPE_CLAIM = "io.modelcontextprotocol/protocolVersion";
const RELATED_TASK = "io.modelcontextprotocol/related-task";
const MESSAGE_KEYS = new Set(["jsonrpc", "id", "method", "params"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isIdOrToken = (v: unknown) => typeof v === "string" || Number.isInteger(v);

/** The SDK's JSONRPCRequestSchema / JSONRPCNotificationSchema (strict top level, loose params), with no envelope claim. */
function wellFormed(json: unknown): boolean {
  if (!isObject(json) || json.jsonrpc !== "2.0" || typeof json.method !== "string") return false;
  for (const key in json) if (!MESSAGE_KEYS.has(key)) return false;
  if ("id" in json && !isIdOrToken(json.id)) return false;
  if (!("params" in json)) return true;
  if (!isObject(json.params)) return false;
  if (!("_meta" in json.params)) return true;
  const meta = json.params._meta;
  if (!isObject(meta) || ENVELOPE_CLAIM in meta) return false;
  if ("progressToken" in meta && !isIdOrToken(meta.progressToken)) return false;
  if (RELATED_TASK in meta && !(isObject(meta[RELATED_TASK]) && typeof (meta[RELATED_TASK] as { taskId?: unknown }).taskId === "string")) return false;
  return true;
}
