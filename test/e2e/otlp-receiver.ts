/**
 * An OTLP/HTTP trace receiver on loopback for end-to-end tests: it takes what SMCP posts
 * to `/v1/traces` and decodes it with the official opentelemetry-proto definitions (the
 * protobufjs root OpenTelemetry JS generates from them, shipped in
 * `@opentelemetry/otlp-transformer`). JSON goes through the proto's JSON mapping
 * (`fromObject`, then `verify`) and back (`toObject`): a field the proto does not define, a
 * wrong type or a misspelt name makes the round trip differ, and the test fails.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { expect } from "vitest";

const require = createRequire(import.meta.url);
// The generated root has no typings the test needs beyond these calls.
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root.js") as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } };
};
interface ProtoType {
  verify(object: unknown): string | null;
  fromObject(object: unknown): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
}
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  status: { code?: number };
}

/** OTLP JSON writes ids as hex; the proto JSON mapping of `bytes` is base64. */
const ID_FIELDS = new Set(["traceId", "spanId", "parentSpanId"]);
function hexIdsToBase64(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIdsToBase64);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, ID_FIELDS.has(k) && typeof v === "string" ? Buffer.from(v, "hex").toString("base64") : hexIdsToBase64(v)]),
  );
}

const b64ToHex = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64").toString("hex") : "");

type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
const valueOf = (v: AnyValue) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue ?? v.doubleValue ?? "");

/** Decodes one OTLP/HTTP JSON export with the official definitions; fails the test on anything they do not define. */
export function decodeExport(text: string): { spans: ReceivedSpan[]; resource: Record<string, unknown> } {
  const json = hexIdsToBase64(JSON.parse(text));
  const message = ExportTraceServiceRequest.fromObject(json);
  expect(ExportTraceServiceRequest.verify(message)).toBeNull();
  const back = ExportTraceServiceRequest.toObject(message, { longs: String, enums: Number, bytes: String });
  expect(back, "the export names only fields of opentelemetry-proto's ExportTraceServiceRequest").toEqual(json);
  const spans: ReceivedSpan[] = [];
  let resource: Record<string, unknown> = {};
  for (const rs of (back.resourceSpans ?? []) as { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]) {
    resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, valueOf(a.value)]));
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: b64ToHex(s.traceId),
          spanId: b64ToHex(s.spanId),
          parentSpanId: b64ToHex(s.parentSpanId),
          name: String(s.name),
          kind: Number(s.kind ?? 0),
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: Object.fromEntries(((s.attributes ?? []) as { key: string; value: AnyValue }[]).map((a) => [a.key, valueOf(a.value)])),
          links: ((s.links ?? []) as { traceId: string; spanId: string }[]).map((l) => ({ traceId: b64ToHex(l.traceId), spanId: b64ToHex(l.spanId) })),
          status: (s.status ?? {}) as { code?: number },
        });
      }
    }
  }
  return { spans, resource };
}

export class OtlpReceiver {
  /** Every body received, as sent (for checks of what must never appear). */
  readonly bodies: string[] = [];
  readonly spans: ReceivedSpan[] = [];
  readonly requests: { path: string; contentType: string; headers: http.IncomingHttpHeaders }[] = [];
  resource: Record<string, unknown> = {};
  #server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    this.requests.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "", headers: req.headers });
    this.bodies.push(text);
    try {
      const decoded = decodeExport(text);
      this.spans.push(...decoded.spans);
      this.resource = decoded.resource;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } catch (err) {
      this.errors.push(err);
      res.writeHead(400).end();
    }
  });
  /** Exports that failed to decode: each one fails the test that looks. */
  readonly errors: unknown[] = [];

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server.closeAllConnections(), this.#server.close(() => resolve())));
  }

  /** The first span `match` accepts, once it has arrived. */
  async span(match: (s: ReceivedSpan) => boolean, what: string): Promise<ReceivedSpan> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = this.spans.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no span arrived: ${what} (got ${this.spans.map((s) => s.name).join(", ")})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
