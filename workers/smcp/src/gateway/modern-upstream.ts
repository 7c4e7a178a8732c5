/**
 * An upstream that serves 2026-07-28 itself, in front of SMCP's 2026 clients: a
 * pass-through with SMCP's checks. The Worker has checked the client (origin,
 * authentication, rate limit, body); the request goes upstream as the client wrote it
 * (its `_meta` envelope declares the client itself), with only the configured headers
 * and `MCP-Protocol-Version: 2026-07-28`, never the client's credential. What comes back
 * is read as on the session lane (upstream-client.ts: shape-checked, size-capped, at
 * most MAX_MESSAGES_PER_CALL messages about one call, a time limit that any message
 * restarts) and written to the client as an event stream; a failure becomes an error
 * answer worded like the session lane's (failure-text.ts).
 *
 * The era of an upstream is found once per configuration (URL and its update time) and
 * isolate: a `server/discover` that lists 2026-07-28 means a 2026 upstream; anything
 * else a 2025 one (served through the upstream objects, principal-upstream-do.ts). A
 * probe that could not reach the upstream is not remembered.
 */
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResponse, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/server";
import { LISTEN_WINDOW_MS, MAX_LISTEN_MESSAGES, MAX_MESSAGES_PER_CALL } from "./relay";
import { postMessage, type UpstreamEndpoint, type UpstreamFailure } from "./upstream-client";
import { wordFailure } from "./failure-text";
import { governTransport, type GovernedTransport } from "../policy/govern";
import type { ToolPolicy } from "../policy/tool-policy";

export const MODERN = "2026-07-28";
const MAX_REMEMBERED = 1_000;
const PROBE_TIMEOUT_MS = 10_000;

/** By `url|updatedAt`; the oldest goes first past MAX_REMEMBERED. */
const eras = new Map<string, "2025" | "2026">();

export interface ModernUpstream {
  server: string;
  url: string;
  updatedAt: number;
  endpoint(): Promise<UpstreamEndpoint>;
  callTimeoutMs: number;
}

/** Whether the upstream serves 2026-07-28 (probed once per configuration). */
export async function servesModern(up: ModernUpstream): Promise<boolean> {
  const key = `${up.url}|${up.updatedAt}`;
  const known = eras.get(key);
  if (known) return known === "2026";
  let endpoint: UpstreamEndpoint;
  try {
    endpoint = await up.endpoint();
  } catch {
    return false;
  }
  const probe: JSONRPCMessage = {
    jsonrpc: "2.0",
    id: "smcp-era-probe",
    method: "server/discover",
    params: { _meta: { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "smcp", version: "1" } } },
  };
  const outcome = await postMessage(endpoint, { sessionId: null, protocolVersion: MODERN }, probe, AbortSignal.timeout(PROBE_TIMEOUT_MS), modernHeaders(probe, new Headers()));
  let era: "2025" | "2026" | null = null;
  if (outcome.kind === "failed") era = outcome.failure.reason === "status" && outcome.failure.status < 500 ? "2025" : null;
  else if (outcome.kind === "accepted") era = "2025";
  else {
    era = "2025";
    for await (const item of outcome.items) {
      if ("failure" in item) break;
      const m = item.message;
      if (isJSONRPCResponse(m) && m.id === probe.id) {
        const versions = ((m as { result?: { supportedVersions?: unknown } }).result ?? {}).supportedVersions;
        if (Array.isArray(versions) && versions.includes(MODERN)) era = "2026";
        break;
      }
      if (isJSONRPCErrorResponse(m)) break;
    }
  }
  if (era === null) return false;
  if (eras.size >= MAX_REMEMBERED) eras.delete(eras.keys().next().value!);
  eras.set(key, era);
  return era === "2026";
}

/** Which body field a request's `Mcp-Name` mirrors (SEP-2243, and SEP-2663 for tasks). */
const NAME_SOURCE: Record<string, string> = { "tools/call": "name", "prompts/get": "name", "resources/read": "uri", "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId" };
const MAX_PARAM_HEADERS = 32;

/** A header value as SEP-2243 carries it: plain visible ASCII as is, anything else base64 between its sentinels. */
function headerValue(v: string): string {
  const plain = v.length > 0 && v === v.trim() && /^[\t\x20-\x7e]*$/.test(v) && !(v.startsWith("=?base64?") && v.endsWith("?="));
  if (plain) return v;
  let binary = "";
  for (const byte of new TextEncoder().encode(v)) binary += String.fromCharCode(byte);
  return `=?base64?${btoa(binary)}?=`;
}

/**
 * The 2026 revision's per-request headers, derived by SMCP from the body (never taken
 * from the client's headers, which the upstream checks against the body): `Mcp-Method`
 * and `Mcp-Name`; the client's `Mcp-Param-*` headers (the tool's `x-mcp-header`
 * declarations, which only the client computed) are passed on, bounded.
 */
export function modernHeaders(message: JSONRPCMessage, client: Headers): Record<string, string> {
  if (!isJSONRPCRequest(message)) return {};
  const out: Record<string, string> = { "mcp-method": message.method };
  const field = Object.hasOwn(NAME_SOURCE, message.method) ? NAME_SOURCE[message.method] : undefined;
  const value = field ? (message.params as Record<string, unknown> | undefined)?.[field] : undefined;
  if (typeof value === "string") out["mcp-name"] = headerValue(value.slice(0, 4_096));
  let params = 0;
  for (const [name, v] of client) {
    if (!name.startsWith("mcp-param-") || name.length > 128 || v.length > 8_192 || ++params > MAX_PARAM_HEADERS) continue;
    out[name] = v;
  }
  return out;
}

const encoder = new TextEncoder();
const event = (m: JSONRPCMessage) => encoder.encode(`event: message\ndata: ${JSON.stringify(m)}\n\n`);

const sseHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache" };

/** Sends a 2026 notification upstream; nothing comes back. */
export async function notifyModern(up: ModernUpstream, message: JSONRPCMessage, signal: AbortSignal, perRequest: Record<string, string> = {}): Promise<void> {
  const outcome = await postMessage(await up.endpoint(), { sessionId: null, protocolVersion: MODERN }, message, AbortSignal.any([signal, AbortSignal.timeout(up.callTimeoutMs)]), perRequest);
  if (outcome.kind === "messages") for await (const _ of outcome.items); // nothing is expected back for a notification
}

/**
 * POSTs one 2026 request upstream and reads what comes back until its answer: the
 * upstream's other messages about it go to `related` (any of them restarts the time
 * limit). Resolves with the answer, or an error answer in the upstream's place. A
 * `subscriptions/listen` has no time limit and no message cap: it lasts while `signal`
 * does.
 */
export async function exchangeModern(
  up: ModernUpstream,
  request: JSONRPCMessage & { id: RequestId; method: string },
  signal: AbortSignal,
  related: (m: JSONRPCMessage) => Promise<void> | void,
  perRequest: Record<string, string> = modernHeaders(request, new Headers()),
): Promise<JSONRPCMessage> {
  const { id, method } = request;
  const listen = method === "subscriptions/listen";
  const abort = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    if (!listen) timer = setTimeout(() => ((timedOut = true), abort.abort()), up.callTimeoutMs);
  };
  const onAbort = () => abort.abort();
  signal.addEventListener("abort", onAbort);
  const failed = (f: UpstreamFailure): JSONRPCMessage => {
    // A 2026 upstream has no session to forget: a 404 is an answer like any other status.
    const { message: text, data } = wordFailure(up.server, up.url, timedOut ? { reason: "timeout" } : f.reason === "expired" ? { reason: "status", status: 404 } : f, method, up.callTimeoutMs);
    return { jsonrpc: "2.0", id, error: { code: -32603, message: text, data } };
  };
  arm();
  try {
    const outcome = await postMessage(await up.endpoint(), { sessionId: null, protocolVersion: MODERN }, request, abort.signal, perRequest);
    if (outcome.kind === "failed") return failed(outcome.failure);
    if (outcome.kind === "accepted") return failed({ reason: "malformed", detail: `it accepted ${method} without answering it` });
    let count = 0;
    let window = { start: Date.now(), count: 0 };
    for await (const item of outcome.items) {
      if ("failure" in item) return failed(item.failure);
      if (!listen && ++count > MAX_MESSAGES_PER_CALL) return failed({ reason: "malformed", detail: `it sent more than ${MAX_MESSAGES_PER_CALL} messages about one call` });
      if (listen) {
        // A listen stream has no end to count to: past the window's share, its messages are dropped.
        if (Date.now() - window.start >= LISTEN_WINDOW_MS) window = { start: Date.now(), count: 0 };
        if (++window.count > MAX_LISTEN_MESSAGES) continue;
      }
      const m = item.message;
      if (isJSONRPCResponse(m) || isJSONRPCErrorResponse(m)) {
        // An answer goes only to the request that waits for it.
        if (m.id === id) return m;
        continue;
      }
      arm();
      await related(m);
    }
    return failed(timedOut ? { reason: "timeout" } : { reason: "malformed", detail: `it ended its stream without answering ${method}` });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * One 2026 request or notification of the client, passed to the upstream; the client's
 * own abort ends it. Under a tool policy the exchange is governed as every server's is
 * (policy/govern.ts): the client's message on its way in, the upstream's on their way out.
 */
export async function passThrough(up: ModernUpstream, message: JSONRPCMessage, request: Request, policy?: ToolPolicy | null): Promise<Response> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const gone = new AbortController();
  const write = async (m: JSONRPCMessage) =>
    writer.write(event(m)).catch(() => {
      // The client went away: the upstream's stream is dropped with it.
      gone.abort();
    });
  let upstreamMessage = message;
  let toClient = write;
  if (policy) {
    const exchange: GovernedTransport = { onmessage: (m) => void (upstreamMessage = m), send: write };
    governTransport(exchange, () => policy);
    exchange.onmessage!(message as never);
    toClient = (m) => exchange.send(m as never);
  }
  const perRequest = modernHeaders(upstreamMessage, request.headers);
  if (!isJSONRPCRequest(upstreamMessage)) {
    void writer.close().catch(() => {});
    await notifyModern(up, upstreamMessage, request.signal, perRequest);
    return new Response(null, { status: 202 });
  }
  void exchangeModern(up, upstreamMessage, AbortSignal.any([request.signal, gone.signal]), (m) => (isJSONRPCNotification(m) || isJSONRPCRequest(m) ? toClient(m) : undefined), perRequest)
    .then(toClient)
    .finally(() => writer.close().catch(() => {}));
  return new Response(readable, { headers: sseHeaders });
}

/** The pass-through's view of an upstream server, from its module and its configuration's update time. */
export function modernUpstreamOf(upstream: { server: string; url: string; headers(): Promise<Record<string, string>> }, updatedAt: number, allowLoopback: boolean, callTimeoutMs: number): ModernUpstream {
  return {
    server: upstream.server,
    url: upstream.url,
    updatedAt,
    callTimeoutMs,
    endpoint: async () => ({ url: upstream.url, headers: await upstream.headers(), allowLoopback }),
  };
}
