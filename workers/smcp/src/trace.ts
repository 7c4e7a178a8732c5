/**
 * W3C trace context: the trace id of a request, taken from its `traceparent` header
 * when valid, minted otherwise. It is logged with every request line and handed to
 * tools (in `authInfo.extra.traceparent` and as the `traceparent` header of the
 * request they see), so a tool's own spans join the caller's trace.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface Trace {
  traceId: string;
  /** The `traceparent` to propagate: same trace, this hop as parent. */
  traceparent: string;
}

/** `bytes` random bytes as lowercase hex (at most 16). */
const hex = (bytes: number) => crypto.randomUUID().replace(/-/g, "").slice(0, bytes * 2);

export function traceOf(request: Request): Trace {
  const match = TRACEPARENT.exec(request.headers.get("traceparent")?.trim().toLowerCase() ?? "");
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : hex(16);
  const flags = match?.[3] ?? "01";
  return { traceId, traceparent: `00-${traceId}-${hex(8)}-${flags}` };
}
