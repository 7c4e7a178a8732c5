/**
 * Runs one round of a task's `tools/call` through the server module itself, as a plain
 * synchronous 2026-07-28 request to the SDK's `createMcpHandler` in the task's Durable
 * Object. The module knows nothing of tasks: a task is the platform's wrapping of an
 * ordinary call, and an input-required round is the SDK's multi-round-trip
 * (`InputRequiredResult`), answered later by `tasks/update` and run again with the answers.
 */
import { createMcpHandler, type AuthInfo } from "@modelcontextprotocol/server";
import type { ServerModule, ToolDataStore } from "@smcp/servers";
import type { JsonRpcErrorObject, TaskCall } from "./task-record";

export type RoundOutcome =
  | { kind: "complete"; result: Record<string, unknown> }
  | { kind: "input_required"; inputRequests: Record<string, unknown>; requestState?: string }
  | { kind: "error"; error: JsonRpcErrorObject };

export interface RoundContext {
  tenant: string;
  server: string;
  module: ServerModule;
  store: ToolDataStore;
  authInfo: AuthInfo;
  signal: AbortSignal;
}

/** One `tools/call` round; never throws (an unexpected failure is an outcome with -32603). */
export async function runRound(call: TaskCall, ctx: RoundContext): Promise<RoundOutcome> {
  try {
    const handler = createMcpHandler(() => ctx.module.create({ tenant: ctx.tenant, server: ctx.server, store: ctx.store }), { legacy: "reject" });
    const params: Record<string, unknown> = { name: call.name, arguments: call.arguments ?? {}, _meta: call.meta ?? {} };
    if (call.inputResponses) params.inputResponses = call.inputResponses;
    if (call.requestState !== undefined) params.requestState = call.requestState;
    const body = { jsonrpc: "2.0", id: 1, method: "tools/call", params };
    const protocolVersion = (call.meta?.["io.modelcontextprotocol/protocolVersion"] as string | undefined) ?? "2026-07-28";
    const request = new Request("https://tasks.smcp.internal/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": protocolVersion,
        "mcp-method": "tools/call",
        "mcp-name": encodeHeaderValue(call.name),
      },
      body: JSON.stringify(body),
      signal: ctx.signal,
    });
    const response = await handler.fetch(request, { parsedBody: body, authInfo: ctx.authInfo });
    const message = await lastMessage(response);
    if (message?.error) return { kind: "error", error: message.error };
    const result = message?.result as Record<string, unknown> | undefined;
    if (!result) return { kind: "error", error: { code: -32603, message: "The tool's server gave no answer" } };
    if (result.resultType === "input_required") {
      const { inputRequests, requestState } = result as { inputRequests?: Record<string, unknown>; requestState?: string };
      return { kind: "input_required", inputRequests: inputRequests ?? {}, requestState };
    }
    return { kind: "complete", result: withoutEnvelope(result) };
  } catch (err) {
    return { kind: "error", error: { code: -32603, message: `The task's tool call failed: ${err instanceof Error ? err.message : String(err)}` } };
  }
}

/** The result as a client would have got it from a synchronous call, less the per-response stamps. */
export function withoutEnvelope(result: Record<string, unknown>): Record<string, unknown> {
  const { resultType: _resultType, _meta, ...rest } = result;
  const meta = { ...(_meta as Record<string, unknown> | undefined) };
  delete meta["io.modelcontextprotocol/serverInfo"];
  delete meta["io.modelcontextprotocol/related-task"];
  return Object.keys(meta).length ? { ...rest, _meta: meta } : rest;
}

/** A name the SDK's `Mcp-Name` check accepts: plain ASCII as it is, anything else as its base64 sentinel. */
function encodeHeaderValue(value: string): string {
  if (/^[\x21-\x7e]*$/.test(value)) return value;
  const bytes = new TextEncoder().encode(value);
  return `=?base64?${btoa(String.fromCharCode(...bytes))}?=`;
}

interface RpcMessage {
  result?: unknown;
  error?: JsonRpcErrorObject;
}

/** The JSON-RPC response of a POST: a JSON body, or the last message on its SSE stream. */
async function lastMessage(response: Response): Promise<RpcMessage | undefined> {
  const text = await response.text();
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) return text ? (JSON.parse(text) as RpcMessage) : undefined;
  let last: RpcMessage | undefined;
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, ""))
      .join("\n");
    if (!data) continue;
    const message = JSON.parse(data) as RpcMessage & { id?: unknown };
    if ("result" in message || "error" in message) last = message;
  }
  return last;
}
