/**
 * Spans as an OTLP/HTTP JSON `ExportTraceServiceRequest` (opentelemetry-proto's
 * trace_service.proto in its JSON mapping): ids as lowercase hex, times as decimal
 * nanoseconds in strings (int64), enums as numbers. JSON rather than protobuf: it needs
 * no encoder in the Worker and every OTLP/HTTP receiver accepts it.
 */
import type { AttributeValue, Span } from "./span";

const SPAN_KIND = { server: 2, client: 3 } as const;
const STATUS_ERROR = 2;

export interface Resource {
  serviceName: string;
  serviceVersion: string;
}

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

function anyValue(value: AttributeValue): AnyValue {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

const keyValues = (attributes: Record<string, AttributeValue>) => Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));

/** Milliseconds since the epoch as OTLP's nanoseconds (fixed64 as a decimal string). */
const nanos = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();

function encodeSpan(span: Span) {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    name: span.name,
    kind: SPAN_KIND[span.kind],
    startTimeUnixNano: nanos(span.startMs),
    endTimeUnixNano: nanos(Math.max(span.endMs, span.startMs)),
    attributes: keyValues(span.attributes),
    ...(span.links.length > 0 ? { links: span.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })) } : {}),
    ...(span.error ? { status: { code: STATUS_ERROR } } : {}),
  };
}

export function encodeTraces(spans: Span[], resource: Resource) {
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues({ "service.name": resource.serviceName, "service.version": resource.serviceVersion }) },
        scopeSpans: [{ scope: { name: "smcp", version: resource.serviceVersion }, spans: spans.map(encodeSpan) }],
      },
    ],
  };
}
