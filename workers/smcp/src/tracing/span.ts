/**
 * A finished span as SMCP records it: names, ids, times and attributes only. What goes
 * into `attributes` is decided by the builders (request-span.ts, client-span.ts), which
 * take identifiers and outcomes and never tool arguments, results or secrets.
 */
import type { SpanContext } from "../trace";

export type AttributeValue = string | number | boolean;

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** SERVER: SMCP handling a client's request; CLIENT: SMCP calling an upstream. */
  kind: "server" | "client";
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  /** `error` when `error.type` is set (the MCP conventions); otherwise unset. */
  error: boolean;
  links: SpanContext[];
}

/** Longest attribute value kept: names come from clients and upstreams. */
export const MAX_ATTRIBUTE_CHARS = 200;

/** Sets `key` when `value` is there, strings cut to `MAX_ATTRIBUTE_CHARS`. */
export function setAttribute(attributes: Record<string, AttributeValue>, key: string, value: AttributeValue | null | undefined): void {
  if (value === undefined || value === null) return;
  attributes[key] = typeof value === "string" ? value.slice(0, MAX_ATTRIBUTE_CHARS) : value;
}

/** `{mcp.method.name} {target}`, the target being the tool's or the prompt's name when there is one. */
export const mcpSpanName = (method: string, target?: string | null) => (target ? `${method} ${target}` : method);

/**
 * The attributes every MCP span has, from the first message of a body: its method, its
 * JSON-RPC id (as text), and the tool or prompt it names. Nothing else of the params is read.
 */
export function messageAttributes(json: unknown): { method: string | null; target: string | null; attributes: Record<string, AttributeValue> } {
  const first = (Array.isArray(json) ? json[0] : json) as { id?: unknown; method?: unknown; params?: { name?: unknown } } | undefined;
  const attributes: Record<string, AttributeValue> = {};
  const method = typeof first?.method === "string" ? first.method.slice(0, MAX_ATTRIBUTE_CHARS) : null;
  if (!method) return { method: null, target: null, attributes };
  setAttribute(attributes, "mcp.method.name", method);
  if (typeof first!.id === "string" || typeof first!.id === "number") setAttribute(attributes, "jsonrpc.request.id", String(first!.id));
  const name = typeof first!.params?.name === "string" ? first!.params.name.slice(0, MAX_ATTRIBUTE_CHARS) : null;
  let target: string | null = null;
  if (method === "tools/call" && name) {
    target = name;
    setAttribute(attributes, "gen_ai.tool.name", name);
    setAttribute(attributes, "gen_ai.operation.name", "execute_tool");
  } else if (method === "prompts/get" && name) {
    target = name;
    setAttribute(attributes, "gen_ai.prompt.name", name);
  }
  return { method, target, attributes };
}
