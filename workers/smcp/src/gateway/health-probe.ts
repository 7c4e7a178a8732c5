/**
 * One health probe of an upstream server: what a client's first moments with it are,
 * `initialize`, `notifications/initialized`, `tools/list` (following `nextCursor`, a
 * bounded number of pages), then the upstream session is deleted (DELETE with its
 * `Mcp-Session-Id`) so probes leave nothing open upstream. An upstream that refuses
 * `initialize` with a 4xx other than 401/403 (a 2026-07-28-only server refuses the 2025
 * handshake) is probed the 2026 way instead: `server/discover`, then `tools/list`, each
 * a stateless request with the revision's envelope and headers, and no session to delete.
 *
 * It goes through the relay's own client (upstream-client.ts): the same egress rules,
 * the same headers (secrets filled in by the caller), no redirects followed, every
 * answer size-capped and shape-checked. A failure is worded as the relay words it to a
 * client (failure-text.ts). Never throws for what the upstream does.
 */
import { isJSONRPCErrorResponse, isJSONRPCResponse, type JSONRPCMessage } from "@modelcontextprotocol/server";
import { LATEST_SESSION_REVISION } from "@smcp/runtime";
import { wordFailure } from "./failure-text";
import { MODERN, modernHeaders } from "./modern-upstream";
import { deleteSession, postMessage, type UpstreamEndpoint, type UpstreamFailure, type UpstreamSessionHeaders } from "./upstream-client";

/** Pages of `tools/list` one probe reads at most; a longer list counts what those pages held. */
export const MAX_TOOL_PAGES = 10;
/** How long the DELETE of the probe's upstream session may take (best effort, not part of the verdict). */
const DELETE_TIMEOUT_MS = 5_000;

export type ProbeResult =
  | { ok: true; latencyMs: number; tools: number; protocolVersion: string | null }
  | { ok: false; latencyMs: number; error: string };

class ProbeFailure extends Error {}

export const PROBE_CLIENT_INFO = { name: "smcp-health-probe", version: "1" } as const;

export async function probeUpstream(server: string, endpoint: UpstreamEndpoint, timeoutMs: number, now: () => number = Date.now): Promise<ProbeResult> {
  const started = now();
  const signal = AbortSignal.timeout(timeoutMs);
  const session: UpstreamSessionHeaders = { sessionId: null, protocolVersion: null };
  let modern = false;
  let refused: UpstreamFailure | null = null;
  const fail = (f: UpstreamFailure, method: string): never => {
    if (method === "initialize") refused = f;
    if (f.reason === "expired") throw new ProbeFailure(`Upstream ${server} (${new URL(endpoint.url).host}) forgot the session it had just opened (HTTP 404 to ${method})`);
    throw new ProbeFailure(wordFailure(server, endpoint.url, signal.aborted ? { reason: "timeout" } : f, method, timeoutMs).message);
  };
  /** POSTs a request and reads until its answer; whatever else comes (notifications, requests) is dropped. */
  const call = async (id: number, method: string, params: Record<string, unknown>) => {
    const message: JSONRPCMessage = { jsonrpc: "2.0", id, method, params: modern ? { ...params, _meta: MODERN_ENVELOPE } : params };
    const outcome = modern
      ? await postMessage(endpoint, { sessionId: null, protocolVersion: MODERN }, message, signal, modernHeaders(message, new Headers()))
      : await postMessage(endpoint, session, message, signal);
    if (outcome.kind === "failed") return fail(outcome.failure, method);
    if (outcome.kind === "accepted") return fail({ reason: "malformed", detail: `it accepted ${method} without answering it` }, method);
    if (method === "initialize") session.sessionId = outcome.sessionId;
    for await (const item of outcome.items) {
      if ("failure" in item) return fail(item.failure, method);
      const m = item.message;
      if (!(isJSONRPCResponse(m) || isJSONRPCErrorResponse(m)) || m.id !== id) continue;
      if (isJSONRPCErrorResponse(m)) {
        throw new ProbeFailure(`Upstream ${server} (${new URL(endpoint.url).host}) answered ${method} with the error ${m.error.code}: ${String(m.error.message).slice(0, 300)}`);
      }
      return ((m as { result?: unknown }).result ?? {}) as Record<string, unknown>;
    }
    return fail(signal.aborted ? { reason: "timeout" } : { reason: "malformed", detail: `it ended its stream without answering ${method}` }, method);
  };
  try {
    const init = await call(1, "initialize", { protocolVersion: LATEST_SESSION_REVISION, capabilities: {}, clientInfo: PROBE_CLIENT_INFO }).catch(async (err: unknown) => {
      if (!servesOnlyModern(refused)) throw err;
      modern = true;
      await call(1, "server/discover", {}).catch(() => Promise.reject(err)); // neither era answered: the 2025 refusal says more
      return null;
    });
    if (init) {
      const version = init.protocolVersion;
      session.protocolVersion = typeof version === "string" && /^[\w.-]{1,32}$/.test(version) ? version : null;
      const initialized = await postMessage(endpoint, session, { jsonrpc: "2.0", method: "notifications/initialized" } as JSONRPCMessage, signal);
      if (initialized.kind === "failed") fail(initialized.failure, "notifications/initialized");
      if (initialized.kind === "messages") for await (const _ of initialized.items);
    } else session.protocolVersion = MODERN;
    let tools = 0;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const listed = await call(2 + page, "tools/list", cursor === undefined ? {} : { cursor });
      if (!Array.isArray(listed.tools)) fail({ reason: "malformed", detail: "its tools/list answer has no tools array" }, "tools/list");
      tools += (listed.tools as unknown[]).length;
      if (typeof listed.nextCursor !== "string" || listed.nextCursor === "") break;
      cursor = listed.nextCursor.slice(0, 1_024);
    }
    return { ok: true, latencyMs: Math.max(0, now() - started), tools, protocolVersion: session.protocolVersion };
  } catch (err) {
    const error = err instanceof ProbeFailure ? err.message : `Upstream ${server}: the probe failed inside SMCP`;
    return { ok: false, latencyMs: Math.max(0, now() - started), error };
  } finally {
    if (session.sessionId && !modern) await deleteSession(endpoint, session, DELETE_TIMEOUT_MS).catch(() => {});
  }
}

/** What a 2026 request of the probe carries in place of a handshake. */
const MODERN_ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": PROBE_CLIENT_INFO,
  "io.modelcontextprotocol/clientCapabilities": {},
};

/** A refusal of `initialize` that a 2026-only server gives (not one of credentials, not a server error). */
function servesOnlyModern(f: UpstreamFailure | null): boolean {
  return f?.reason === "status" && f.status >= 400 && f.status < 500 && f.status !== 401 && f.status !== 403;
}
