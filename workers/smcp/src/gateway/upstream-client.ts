/**
 * SMCP's own Streamable HTTP client for one upstream session: one POST per client
 * message, so every message the upstream sends back is known to belong to the client
 * request it answers (the SDK's client transport would merge them into one stream).
 *
 * What it guarantees, because the upstream is untrusted:
 * - the fetch goes to the configured URL only (checked again here against the egress
 *   rules), with the configured headers and SMCP's protocol headers, nothing the
 *   client sent SMCP; redirects are not followed (a 3xx is a failure);
 * - a JSON answer is read to at most `MAX_MESSAGE_BYTES`, an SSE answer through the
 *   bounded reader (sse.ts), and every message is shape-checked as JSON-RPC;
 * - failures come back as tagged values (`UpstreamFailure`) for the relay to word;
 *   nothing here throws for what the upstream does.
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  type JSONRPCMessage,
} from "@modelcontextprotocol/server";
import { readBoundedBytes } from "@smcp/runtime";
import { readSse, SseLimitError } from "./sse";
import { reservedHostProblem } from "../sandbox/egress";
import { upstreamUrlProblem } from "./upstream-config";
import { upstreamCall, type ClientCall } from "../tracing/client-span";

export const MAX_MESSAGE_BYTES = 1024 * 1024;

export type UpstreamFailure =
  | { reason: "auth"; status: number; resourceMetadata: string | null }
  | { reason: "expired" }
  | { reason: "status"; status: number; error?: UpstreamError }
  | { reason: "redirect"; status: number }
  | { reason: "timeout" }
  | { reason: "unreachable"; detail: string }
  | { reason: "refused"; detail: string }
  | { reason: "malformed"; detail: string };

/** The JSON-RPC error an upstream put in the body of a 4xx answer (the 2026 revision answers errors so), bounded. */
export interface UpstreamError {
  code: number;
  message: string;
  data?: unknown;
}

const MAX_ERROR_BODY_BYTES = 16_384;

/** The JSON-RPC error in a 4xx JSON body, if there is one; anything else, or too large, is none. */
async function errorOf(res: Response): Promise<UpstreamError | undefined> {
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (res.status < 400 || res.status >= 500 || type !== "application/json") return undefined;
  try {
    const bytes = await readBoundedBytes(res.body, MAX_ERROR_BODY_BYTES);
    if (bytes === null) return undefined;
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    const { code, message, data } = body?.error ?? {};
    if (typeof code !== "number" || !Number.isInteger(code) || typeof message !== "string") return undefined;
    return { code, message: message.slice(0, 500), ...(data !== undefined ? { data } : {}) };
  } catch {
    return undefined;
  }
}

/** One message of the upstream, or why one could not be read (the stream ends after it). */
export type UpstreamItem = { message: JSONRPCMessage } | { failure: UpstreamFailure };

export type PostOutcome =
  | { kind: "accepted" }
  | { kind: "messages"; sessionId: string | null; items: AsyncGenerator<UpstreamItem> }
  | { kind: "failed"; failure: UpstreamFailure };

export interface UpstreamEndpoint {
  url: string;
  headers: Record<string, string>;
  allowLoopback: boolean;
}

export interface UpstreamSessionHeaders {
  sessionId: string | null;
  protocolVersion: string | null;
}

/** The same four schemas in the order an upstream's messages most often match them (each miss is a schema parse). */
const isMessage = (m: unknown): m is JSONRPCMessage =>
  isJSONRPCResponse(m) || isJSONRPCNotification(m) || isJSONRPCErrorResponse(m) || isJSONRPCRequest(m);

function requestHeaders(endpoint: UpstreamEndpoint, session: UpstreamSessionHeaders): Headers {
  const headers = new Headers(endpoint.headers);
  headers.set("content-type", "application/json");
  headers.set("accept", "application/json, text/event-stream");
  if (session.sessionId) headers.set("mcp-session-id", session.sessionId);
  if (session.protocolVersion) headers.set("mcp-protocol-version", session.protocolVersion);
  return headers;
}

/** The `resource_metadata` parameter of a `WWW-Authenticate: Bearer ...` challenge, if it names an http(s) URL. */
export function resourceMetadataOf(challenge: string | null): string | null {
  const m = challenge ? /resource_metadata\s*=\s*"([^"]{1,2048})"/i.exec(challenge) ?? /resource_metadata\s*=\s*([^\s,]{1,2048})/i.exec(challenge) : null;
  if (!m) return null;
  try {
    const url = new URL(m[1]!);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** POSTs one message to the upstream; `signal` bounds the whole exchange, the reading of the answer included. */
export async function postMessage(
  endpoint: UpstreamEndpoint,
  session: UpstreamSessionHeaders,
  message: JSONRPCMessage,
  signal: AbortSignal,
  /** Per-request protocol headers SMCP derived (the 2026 revision's `Mcp-Method`, `Mcp-Name`, …). */
  protocolHeaders: Record<string, string> = {},
): Promise<PostOutcome> {
  const url = new URL(endpoint.url);
  const problem = upstreamUrlProblem(url, { allowLoopback: endpoint.allowLoopback });
  if (problem) return { kind: "failed", failure: { reason: "refused", detail: problem } };
  const reserved = reservedHostProblem(url.hostname);
  if (reserved) return { kind: "failed", failure: { reason: "unreachable", detail: reserved } };
  const headers = requestHeaders(endpoint, session);
  for (const [name, value] of Object.entries(protocolHeaders)) headers.set(name, value);
  const call = upstreamCall(message, url);
  if (call.traceparent) headers.set("traceparent", call.traceparent);
  const outcome = await post(url, headers, call.message, session, signal);
  // Without a span the messages are not wrapped: a generator layer costs every message an await.
  if (!call.recording) return outcome;
  if (outcome.kind === "failed") call.end({ errorType: outcome.failure.reason === "status" || outcome.failure.reason === "auth" ? String(outcome.failure.status) : outcome.failure.reason });
  else if (outcome.kind === "accepted") call.end({});
  else return { ...outcome, items: tracedItems(outcome.items, call) };
  return outcome;
}

/** The upstream's messages, ending the call's span with its answer (or when the stream ends without one). */
async function* tracedItems(items: AsyncGenerator<UpstreamItem>, call: ClientCall): AsyncGenerator<UpstreamItem> {
  let outcome: Parameters<ClientCall["end"]>[0] = { errorType: "no_answer" };
  try {
    for await (const item of items) {
      if ("failure" in item) outcome = { errorType: item.failure.reason };
      else {
        const answer = call.answered(item.message);
        if (answer) {
          outcome = answer;
          call.end(answer);
        }
      }
      yield item;
    }
  } finally {
    call.end(outcome);
  }
}

async function post(url: URL, headers: Headers, message: JSONRPCMessage, session: UpstreamSessionHeaders, signal: AbortSignal): Promise<PostOutcome> {
  let res: Response;
  try {
    res = await fetch(url.href, { method: "POST", headers, body: JSON.stringify(message), redirect: "manual", signal });
  } catch {
    // A refused connection and one the upstream drops before its headers (killed mid-call) fail alike here.
    return { kind: "failed", failure: signal.aborted ? { reason: "timeout" } : { reason: "unreachable", detail: `${url.host} could not be reached, or it dropped the connection before answering` } };
  }
  const failure = statusFailure(res, session);
  if (failure) {
    const error = failure.reason === "status" ? await errorOf(res) : undefined;
    await res.body?.cancel().catch(() => {});
    return { kind: "failed", failure: error && failure.reason === "status" ? { ...failure, error } : failure };
  }
  if (res.status === 202 || res.status === 204) {
    await res.body?.cancel().catch(() => {});
    return { kind: "accepted" };
  }
  const sessionId = res.headers.get("mcp-session-id");
  if (sessionId !== null && !/^[\x21-\x7e]{1,256}$/.test(sessionId)) {
    await res.body?.cancel().catch(() => {});
    return { kind: "failed", failure: { reason: "malformed", detail: "its Mcp-Session-Id header is not visible ASCII of at most 256 characters" } };
  }
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "text/event-stream" && res.body) return { kind: "messages", sessionId, items: sseItems(res.body, signal) };
  if (type === "application/json") return { kind: "messages", sessionId, items: jsonItems(res, signal) };
  await res.body?.cancel().catch(() => {});
  return { kind: "failed", failure: { reason: "malformed", detail: `it answered with HTTP ${res.status} and Content-Type ${JSON.stringify(type.slice(0, 80))}, neither JSON nor an event stream` } };
}

export type ListenOutcome = { kind: "stream"; items: AsyncGenerator<UpstreamItem> } | { kind: "none" } | { kind: "failed"; failure: UpstreamFailure };

/**
 * Opens the upstream's standalone stream (GET): what the upstream sends outside any
 * call (its own requests, list changes). 405 means it has none.
 */
export async function openListenStream(endpoint: UpstreamEndpoint, session: UpstreamSessionHeaders, signal: AbortSignal): Promise<ListenOutcome> {
  const url = new URL(endpoint.url);
  const problem = upstreamUrlProblem(url, { allowLoopback: endpoint.allowLoopback });
  if (problem) return { kind: "failed", failure: { reason: "refused", detail: problem } };
  const reserved = reservedHostProblem(url.hostname);
  if (reserved) return { kind: "failed", failure: { reason: "unreachable", detail: reserved } };
  const headers = requestHeaders(endpoint, session);
  headers.delete("content-type");
  headers.set("accept", "text/event-stream");
  let res: Response;
  try {
    res = await fetch(url.href, { method: "GET", headers, redirect: "manual", signal });
  } catch {
    return { kind: "failed", failure: signal.aborted ? { reason: "timeout" } : { reason: "unreachable", detail: `${url.host} could not be reached` } };
  }
  if (res.status === 405) {
    await res.body?.cancel().catch(() => {});
    return { kind: "none" };
  }
  const failure = statusFailure(res, session);
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (failure || type !== "text/event-stream" || !res.body) {
    await res.body?.cancel().catch(() => {});
    return { kind: "failed", failure: failure ?? { reason: "malformed", detail: "its standalone stream is not an event stream" } };
  }
  return { kind: "stream", items: sseItems(res.body, signal) };
}

/** Best effort: tells the upstream its session is over. */
export async function deleteSession(endpoint: UpstreamEndpoint, session: UpstreamSessionHeaders, timeoutMs: number): Promise<void> {
  if (!session.sessionId || upstreamUrlProblem(new URL(endpoint.url), { allowLoopback: endpoint.allowLoopback })) return;
  const res = await fetch(endpoint.url, { method: "DELETE", headers: requestHeaders(endpoint, session), redirect: "manual", signal: AbortSignal.timeout(timeoutMs) }).catch(() => null);
  await res?.body?.cancel().catch(() => {});
}

function statusFailure(res: Response, session: UpstreamSessionHeaders): UpstreamFailure | null {
  const status = res.status;
  if (status === 401 || status === 403) return { reason: "auth", status, resourceMetadata: resourceMetadataOf(res.headers.get("www-authenticate")) };
  if (status === 404 && session.sessionId) return { reason: "expired" };
  if (status >= 300 && status < 400) return { reason: "redirect", status };
  if (status >= 400 || (status !== 200 && status !== 202 && status !== 204)) return { reason: "status", status };
  return null;
}

const malformed = (detail: string): UpstreamItem => ({ failure: { reason: "malformed", detail } });

function parsed(text: string): UpstreamItem[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [malformed("it sent a message that is not JSON")];
  }
  const list = Array.isArray(json) ? json : [json];
  if (list.length === 0) return [malformed("it sent an empty batch")];
  return list.map((m) => (isMessage(m) ? { message: m } : malformed("it sent a message that is not JSON-RPC 2.0")));
}

async function* jsonItems(res: Response, signal: AbortSignal): AsyncGenerator<UpstreamItem> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readBoundedBytes(res.body, MAX_MESSAGE_BYTES);
  } catch {
    yield { failure: signal.aborted ? { reason: "timeout" } : { reason: "unreachable", detail: "it broke off its answer" } };
    return;
  }
  if (bytes === null) {
    yield malformed(`its answer is larger than ${MAX_MESSAGE_BYTES} bytes`);
    return;
  }
  yield* parsed(new TextDecoder().decode(bytes));
}

async function* sseItems(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<UpstreamItem> {
  try {
    for await (const event of readSse(body, { maxLineChars: MAX_MESSAGE_BYTES, maxEventChars: MAX_MESSAGE_BYTES })) {
      if (event.event !== "message" || event.data === "") continue; // priming events and other types carry no message
      for (const item of parsed(event.data)) {
        yield item;
        if ("failure" in item) return;
      }
    }
  } catch (err) {
    if (err instanceof SseLimitError) yield malformed(`its event stream has ${err.message}`);
    else yield { failure: signal.aborted ? { reason: "timeout" } : { reason: "unreachable", detail: "its event stream broke off" } };
  }
}
