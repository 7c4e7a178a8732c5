/**
 * How a JSON-RPC request ended, as OpenTelemetry's MCP conventions record it: a JSON-RPC
 * error's code (`error.type` and `rpc.response.status_code`), `tool_error` for a tool
 * result with `isError`, or nothing for success. Only `error.code` and `result.isError`
 * are read: neither an error's message nor a result's content reaches a span.
 */
import type { AttributeValue } from "./span";

export interface Outcome {
  errorType?: string;
  rpcCode?: string;
}

/** The outcome of `message` when it answers request `id` (any id when `id` is null); null when it is not that answer. */
export function answerOutcome(message: unknown, id: string | number | null): Outcome | null {
  const m = message as { id?: unknown; result?: { isError?: unknown }; error?: { code?: unknown } } | null;
  if (typeof m !== "object" || m === null || !("id" in m) || (m.result === undefined && m.error === undefined)) return null;
  if (id !== null && m.id !== id) return null;
  if (m.error !== undefined) {
    const code = typeof m.error?.code === "number" && Number.isInteger(m.error.code) ? String(m.error.code) : "error";
    return { errorType: code, rpcCode: code };
  }
  return m.result?.isError === true ? { errorType: "tool_error" } : {};
}

export function outcomeAttributes(attributes: Record<string, AttributeValue>, outcome: Outcome): boolean {
  if (outcome.rpcCode) attributes["rpc.response.status_code"] = outcome.rpcCode;
  if (outcome.errorType) attributes["error.type"] = outcome.errorType;
  return outcome.errorType !== undefined;
}
