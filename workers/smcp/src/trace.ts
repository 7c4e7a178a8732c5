/**
 * W3C trace context: SMCP's span of a request and its parent. The parent is the
 * caller's span, taken from the request's `traceparent` header or, when the JSON-RPC
 * message carries one, from its `params._meta.traceparent` (OpenTelemetry's MCP
 * conventions: the MCP context is the parent, the HTTP one is kept as a link). A
 * missing or malformed value starts a new trace. The trace id is logged with every
 * request line; `traceparent` (SMCP's span as the parent) is handed to tools (in
 * `authInfo.extra.traceparent`, as the `traceparent` header of the request they see,
 * and as `_meta.traceparent` of the messages: tracing/stamp.ts), so a tool's own spans
 * join the caller's trace.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface SpanContext {
  traceId: string;
  spanId: string;
  /** The trace flags, two hex digits; bit 0 is "sampled". */
  flags: string;
}

export interface Trace {
  traceId: string;
  /** SMCP's own span of this request. */
  spanId: string;
  /** The caller's span, when the request named a valid one. */
  parentSpanId?: string;
  flags: string;
  /** The HTTP context, when the message's `_meta` named another parent. */
  links: SpanContext[];
  /** The `traceparent` to propagate: same trace, this hop as parent. */
  traceparent: string;
}

/** `bytes` random bytes as lowercase hex (at most 16). */
const hex = (bytes: number) => crypto.randomUUID().replace(/-/g, "").slice(0, bytes * 2);

/** A valid `traceparent` (version 00, ids not all zero), or null. */
export function parseTraceparent(value: unknown): SpanContext | null {
  if (typeof value !== "string" || value.length > 64) return null;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return null;
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
}

export const formatTraceparent = (context: SpanContext) => `00-${context.traceId}-${context.spanId}-${context.flags}`;

/** A new span id: 8 random bytes, never all zero (a UUID's hex has version digits). */
export const newSpanId = () => hex(8);

/** Whether a span of this context is recorded: SMCP follows the caller's sampling decision. */
export const isSampled = (flags: string) => (Number.parseInt(flags, 16) & 1) === 1;

function traceUnder(parent: SpanContext | null, spanId: string, links: SpanContext[]): Trace {
  const traceId = parent?.traceId ?? hex(16);
  const flags = parent?.flags ?? "01";
  return { traceId, spanId, ...(parent ? { parentSpanId: parent.spanId } : {}), flags, links, traceparent: formatTraceparent({ traceId, spanId, flags }) };
}

export function traceOf(request: Request): Trace {
  return traceUnder(parseTraceparent(request.headers.get("traceparent")), newSpanId(), []);
}

/**
 * The trace once the message is known: a valid `params._meta.traceparent` of the
 * (first) message becomes the parent, keeping SMCP's span id; the HTTP parent, when
 * there was another one, becomes a link.
 */
export function withMessageParent(trace: Trace, json: unknown): Trace {
  const first = (Array.isArray(json) ? json[0] : json) as { params?: { _meta?: { traceparent?: unknown } } } | undefined;
  const meta = parseTraceparent(first?.params?._meta?.traceparent);
  if (!meta || (meta.traceId === trace.traceId && meta.spanId === trace.parentSpanId)) return trace;
  const http = trace.parentSpanId ? [{ traceId: trace.traceId, spanId: trace.parentSpanId, flags: trace.flags }] : [];
  return traceUnder(meta, trace.spanId, http);
}
