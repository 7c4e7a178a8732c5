// Traces, pure parts (workers/smcp/src/trace.ts, tracing/*): W3C traceparent parsing and
// the _meta parent, the stamp into messages, span attributes, OTLP JSON encoding checked
// with the official opentelemetry-proto definitions, and the export buffer's bounds.
import { describe, expect, it } from "vitest";
import { parseTraceparent, traceOf, withMessageParent } from "../../workers/smcp/src/trace";
import { stampTraceparent } from "../../workers/smcp/src/tracing/stamp";
import { messageAttributes, type Span } from "../../workers/smcp/src/tracing/span";
import { encodeTraces } from "../../workers/smcp/src/tracing/otlp-json";
import { SpanBuffer, spanBytes } from "../../workers/smcp/src/tracing/span-buffer";
import { answerOutcome } from "../../workers/smcp/src/tracing/outcome";
import { configureTracing, flushSpans, parseOtlpHeaders, recordSpan, tracesUrl } from "../../workers/smcp/src/tracing/exporter";
import { OtlpReceiver, decodeExport } from "../e2e/otlp-receiver";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const META_PARENT = "00-11111111111111111111111111111111-2222222222222222-01";

describe("traceparent", () => {
  it("traces:context — parses version 00 with non-zero ids, case and space tolerated; refuses the rest", () => {
    expect(parseTraceparent(` ${PARENT.toUpperCase()} `)).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: "01" });
    for (const bad of [undefined, 7, "", "garbage", PARENT.replace(/^00/, "01"), `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${"0".repeat(16)}-01`, `${PARENT}-extra`, "x".repeat(1000)]) {
      expect(parseTraceparent(bad), String(bad)).toBeNull();
    }
  });

  it("traces:context — the HTTP parent is the parent until the message's _meta.traceparent names another, which then wins and the HTTP one becomes a link", () => {
    const http = traceOf(new Request("https://smcp.test/", { headers: { traceparent: PARENT } }));
    expect(http).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentSpanId: "00f067aa0ba902b7", links: [] });
    const message = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "x", _meta: { traceparent: META_PARENT } } };
    const meta = withMessageParent(http, message);
    expect(meta).toMatchObject({ traceId: "1".repeat(32), parentSpanId: "2".repeat(16), spanId: http.spanId, links: [{ traceId: http.traceId, spanId: "00f067aa0ba902b7" }] });
    expect(meta.traceparent).toBe(`00-${"1".repeat(32)}-${http.spanId}-01`);
    // No parent over HTTP: no link. A malformed _meta value changes nothing.
    const bare = traceOf(new Request("https://smcp.test/"));
    expect(withMessageParent(bare, message).links).toEqual([]);
    expect(withMessageParent(http, { ...message, params: { _meta: { traceparent: "nope" } } })).toBe(http);
  });

  it("traces:propagate — stamps SMCP's context into every request and notification of a body, keeps the rest of _meta, leaves responses and odd params alone", () => {
    const tp = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`;
    const one = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: { q: 1 }, _meta: { progressToken: 5, traceparent: META_PARENT } } };
    const stamped = stampTraceparent({ json: one, text: JSON.stringify(one) }, tp);
    expect(stamped.json).toEqual({ ...one, params: { ...one.params, _meta: { progressToken: 5, traceparent: tp } } });
    expect(JSON.parse(stamped.text)).toEqual(stamped.json);
    const batch = [{ jsonrpc: "2.0", method: "notifications/initialized" }, { jsonrpc: "2.0", id: 2, result: {} }, { jsonrpc: "2.0", id: 3, method: "x", params: [1] }];
    const out = stampTraceparent({ json: batch, text: JSON.stringify(batch) }, tp).json as unknown[];
    expect(out[0]).toEqual({ jsonrpc: "2.0", method: "notifications/initialized", params: { _meta: { traceparent: tp } } });
    expect(out[1]).toBe(batch[1]);
    expect(out[2]).toBe(batch[2]);
    const response = { json: { jsonrpc: "2.0", id: 1, result: {} }, text: "{}" };
    expect(stampTraceparent(response, tp)).toBe(response);
  });

  it("traces:propagate — a stamped batch's text, written when first read, is the stamped messages, the same on every read", () => {
    const tp = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`;
    const batch = [{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t" } }, { jsonrpc: "2.0", id: 2, result: {} }];
    const stamped = stampTraceparent({ json: batch, text: JSON.stringify(batch) }, tp);
    expect(JSON.parse(stamped.text)).toEqual([{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", _meta: { traceparent: tp } } }, batch[1]]);
    expect(stamped.text).toBe(stamped.text);
    expect({ ...stamped }.text).toBe(stamped.text);
  });
});

describe("span attributes and outcome", () => {
  it("traces:attributes — a tools/call names its tool and execute_tool, never its arguments; prompts/get names its prompt", () => {
    const call = messageAttributes({ jsonrpc: "2.0", id: "r-1", method: "tools/call", params: { name: "search", arguments: { q: "secret-arg" } } });
    expect(call).toEqual({ method: "tools/call", target: "search", attributes: { "mcp.method.name": "tools/call", "jsonrpc.request.id": "r-1", "gen_ai.tool.name": "search", "gen_ai.operation.name": "execute_tool" } });
    expect(JSON.stringify(call)).not.toContain("secret-arg");
    expect(messageAttributes({ jsonrpc: "2.0", id: 2, method: "prompts/get", params: { name: "greet" } }).attributes).toEqual({ "mcp.method.name": "prompts/get", "jsonrpc.request.id": "2", "gen_ai.prompt.name": "greet" });
    expect(messageAttributes({ jsonrpc: "2.0", method: "notifications/initialized" })).toEqual({ method: "notifications/initialized", target: null, attributes: { "mcp.method.name": "notifications/initialized" } });
    expect(messageAttributes({ jsonrpc: "2.0", id: 3, method: "x".repeat(500) }).method).toHaveLength(200);
  });

  it("traces:attributes — the outcome is the JSON-RPC error code, tool_error for isError, nothing for success, and only for the request's own id", () => {
    expect(answerOutcome({ jsonrpc: "2.0", id: 1, error: { code: -32602, message: "bad secret-arg" } }, 1)).toEqual({ errorType: "-32602", rpcCode: "-32602" });
    expect(answerOutcome({ jsonrpc: "2.0", id: 1, result: { isError: true, content: [] } }, 1)).toEqual({ errorType: "tool_error" });
    expect(answerOutcome({ jsonrpc: "2.0", id: 1, result: {} }, 1)).toEqual({});
    expect(answerOutcome({ jsonrpc: "2.0", id: 2, result: {} }, 1)).toBeNull();
    expect(answerOutcome({ jsonrpc: "2.0", method: "notifications/progress" }, 1)).toBeNull();
  });
});

const span = (over: Partial<Span> = {}): Span => ({
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  parentSpanId: "1234567890abcdef",
  name: "tools/call search",
  kind: "server",
  startMs: 1_700_000_000_123,
  endMs: 1_700_000_000_456,
  attributes: { "mcp.method.name": "tools/call", "http.response.status_code": 200, "smcp.ok": true, ratio: 0.5 },
  error: false,
  links: [],
  ...over,
});

describe("OTLP JSON", () => {
  it("traces:otlp — encodes spans as an ExportTraceServiceRequest that opentelemetry-proto's definitions decode field for field", () => {
    const encoded = encodeTraces([span(), span({ spanId: "0000000000000001", kind: "client", error: true, links: [{ traceId: "a".repeat(32), spanId: "b".repeat(16), flags: "01" }], attributes: { "error.type": "-32602" } })], { serviceName: "smcp", serviceVersion: "1.2.3" });
    const { spans, resource } = decodeExport(JSON.stringify(encoded));
    expect(resource).toEqual({ "service.name": "smcp", "service.version": "1.2.3" });
    expect(spans[0]).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      parentSpanId: "1234567890abcdef",
      name: "tools/call search",
      kind: 2,
      startTimeUnixNano: "1700000000123000000",
      endTimeUnixNano: "1700000000456000000",
      attributes: { "mcp.method.name": "tools/call", "http.response.status_code": 200, "smcp.ok": true, ratio: 0.5 },
      status: {},
    });
    expect(spans[1]).toMatchObject({ kind: 3, status: { code: 2 }, links: [{ traceId: "a".repeat(32), spanId: "b".repeat(16) }], attributes: { "error.type": "-32602" } });
  });

  it("traces:otlp — a field the proto does not define fails the receiver's decoding (the check the e2e receiver relies on)", () => {
    const encoded = encodeTraces([span()], { serviceName: "smcp", serviceVersion: "1" }) as unknown as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    encoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanKind = 2;
    expect(() => decodeExport(JSON.stringify(encoded))).toThrow();
  });

  it("traces:otlp — the export URL is {endpoint}/v1/traces; headers are name=value pairs, percent-decoded; anything else turns export off", () => {
    expect(tracesUrl("http://127.0.0.1:4318")?.href).toBe("http://127.0.0.1:4318/v1/traces");
    expect(tracesUrl("https://otel.example/otlp/")?.href).toBe("https://otel.example/otlp/v1/traces");
    expect(tracesUrl("https://otel.example/v1/traces")?.href).toBe("https://otel.example/v1/traces");
    expect(tracesUrl("ftp://otel.example")).toBeNull();
    expect(tracesUrl("not a url")).toBeNull();
    expect(parseOtlpHeaders("api-key=a%20b, x-team=7")).toEqual({ "api-key": "a b", "x-team": "7" });
    expect(parseOtlpHeaders(undefined)).toEqual({});
    expect(parseOtlpHeaders("novalue")).toBeNull();
    expect(parseOtlpHeaders("bad name=1")).toBeNull();
  });
});

describe("SpanBuffer", () => {
  it("traces:buffer — holds at most its span count, dropping the oldest and counting them", () => {
    const buffer = new SpanBuffer(3, 1024 * 1024);
    for (let i = 0; i < 5; i++) buffer.push(span({ name: `s${i}` }));
    expect(buffer.dropped).toBe(2);
    expect(buffer.take(10).spans.map((s) => s.name)).toEqual(["s2", "s3", "s4"]);
    // The dropped ones have left for good: a request waiting for its span to leave does not wait for them.
    expect(buffer.settledThrough).toBe(2);
    expect(buffer.size).toEqual({ spans: 0, bytes: 0 });
  });

  it("traces:buffer — holds at most its bytes; a span larger than the whole bound is dropped on arrival; take hands out the oldest first in batches", () => {
    const one = spanBytes(span({ name: "s0" }));
    const buffer = new SpanBuffer(100, one * 2);
    for (let i = 0; i < 4; i++) buffer.push(span({ name: `s${i}` }));
    expect(buffer.size).toEqual({ spans: 2, bytes: one * 2 });
    expect(buffer.dropped).toBe(2);
    buffer.push(span({ name: "x".repeat(one * 2) }));
    expect(buffer.dropped).toBe(3);
    expect(buffer.take(1)).toEqual({ spans: [expect.objectContaining({ name: "s2" })], through: 3 });
    expect(buffer.take(1)).toEqual({ spans: [expect.objectContaining({ name: "s3" })], through: 4 });
    expect(buffer.size).toEqual({ spans: 0, bytes: 0 });
  });
});

describe("export", () => {
  it("traces:otlp traces:buffer — spans of concurrent requests leave in one batch, each request's flush ends once its own span is out, with the configured headers", async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    try {
      expect(configureTracing({ SMCP_OTLP_ENDPOINT: endpoint, SMCP_OTLP_HEADERS: "x-key=k%3D1", SMCP_VERSION: "9.9.9" })).not.toBeNull();
      const flushes = Array.from({ length: 40 }, (_, i) => flushSpans(recordSpan(span({ name: `c${i}`, spanId: (i + 1).toString(16).padStart(16, "0") }))));
      await Promise.all(flushes);
      // Every flush returned only after its span had been posted: all 40 are at the receiver now.
      expect(receiver.spans.map((s) => s.name).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `c${i}`).sort());
      expect(receiver.requests.length).toBe(1);
      expect(receiver.requests[0]!.headers["x-key"]).toBe("k=1");
      expect(receiver.resource).toEqual({ "service.name": "smcp", "service.version": "9.9.9" });
      expect(receiver.errors).toEqual([]);
    } finally {
      configureTracing({});
      await receiver.stop();
    }
  });

  it("traces:otlp — with no endpoint nothing is recorded and a flush returns at once", async () => {
    expect(configureTracing({})).toBeNull();
    expect(recordSpan(span())).toBe(0);
    await flushSpans(1);
  });
});
