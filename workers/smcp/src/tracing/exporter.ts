/**
 * OTLP/HTTP export of spans, when the operator sets `SMCP_OTLP_ENDPOINT` (the one
 * call-out besides a tenant's own upstreams and egress). Spans wait in one buffer per
 * isolate (span-buffer.ts: bounded, oldest dropped and counted) and leave in batches,
 * posted as JSON (otlp-json.ts) with a timeout, never awaited by a request: the routing
 * Worker flushes in `ctx.waitUntil` after its response, code in a Durable Object through
 * a timer (`flushSoon`). A failed post drops its batch (logged): export is best effort
 * and must not grow memory. Nothing here is logged with the configured header values.
 */
import { logEvent } from "../log";
import { encodeTraces, type Resource } from "./otlp-json";
import type { Span } from "./span";
import { SpanBuffer } from "./span-buffer";

export const MAX_BUFFERED_SPANS = 2048;
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export const MAX_BATCH_SPANS = 512;
export const EXPORT_TIMEOUT_MS = 5000;

export interface ExportTarget {
  url: string;
  headers: Record<string, string>;
  resource: Resource;
}

interface TracingVariables {
  SMCP_OTLP_ENDPOINT?: string;
  SMCP_OTLP_HEADERS?: string;
  SMCP_VERSION?: string;
}

/** The URL spans are posted to: `{endpoint}/v1/traces`, or the endpoint itself when it names that path already. */
export function tracesUrl(endpoint: string): URL | null {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!url.pathname.endsWith("/v1/traces")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
  return url;
}

/** `SMCP_OTLP_HEADERS` as OTEL_EXPORTER_OTLP_HEADERS writes them: `name=value` pairs, comma-separated, values percent-encoded. */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> | null {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    if (pair.trim() === "") continue;
    const at = pair.indexOf("=");
    if (at <= 0) return null;
    const name = pair.slice(0, at).trim();
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim());
      new Headers({ [name]: value });
    } catch {
      return null;
    }
    headers[name] = value;
  }
  return headers;
}

const targets = new WeakMap<object, ExportTarget | null>();
/** The target of this isolate's env: code that has no env at hand (an upstream call) records through it. */
let active: ExportTarget | null = null;
const buffer = new SpanBuffer(MAX_BUFFERED_SPANS, MAX_BUFFERED_BYTES);
let reportedDrops = 0;

/** Reads the export settings of `env` once (per env object) and makes them this isolate's; null when export is off. */
export function configureTracing(env: TracingVariables): ExportTarget | null {
  let target = targets.get(env);
  if (target === undefined) {
    target = null;
    if (env.SMCP_OTLP_ENDPOINT) {
      const url = tracesUrl(env.SMCP_OTLP_ENDPOINT);
      const headers = parseOtlpHeaders(env.SMCP_OTLP_HEADERS);
      if (!url || !headers) logEvent("warn", "trace export off: SMCP_OTLP_ENDPOINT must be an http(s) URL and SMCP_OTLP_HEADERS name=value pairs", { endpointValid: url !== null, headersValid: headers !== null });
      else target = { url: url.href, headers, resource: { serviceName: "smcp", serviceVersion: env.SMCP_VERSION ?? "dev" } };
    }
    targets.set(env, target);
  }
  active = target;
  return target;
}

export const tracingOn = () => active !== null;

/** Keeps a finished span for the next export; nothing when export is off. */
export function recordSpan(span: Span): void {
  if (active) buffer.push(span);
}

/** Posts every buffered span, in batches. Concurrent calls take different batches: no promise is shared across requests. */
export async function flushSpans(): Promise<void> {
  const target = active;
  if (!target) return;
  if (buffer.dropped > reportedDrops) {
    logEvent("warn", "spans dropped: the export buffer was full", { dropped: buffer.dropped - reportedDrops, droppedTotal: buffer.dropped });
    reportedDrops = buffer.dropped;
  }
  for (let batch = buffer.take(MAX_BATCH_SPANS); batch.length > 0; batch = buffer.take(MAX_BATCH_SPANS)) {
    await post(target, batch);
  }
}

async function post(target: ExportTarget, spans: Span[]): Promise<void> {
  try {
    const res = await fetch(target.url, {
      method: "POST",
      headers: { ...target.headers, "content-type": "application/json" },
      body: JSON.stringify(encodeTraces(spans, target.resource)),
      signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => {});
    if (!res.ok) logEvent("warn", "trace export refused", { status: res.status, spans: spans.length });
  } catch (err) {
    logEvent("warn", "trace export failed", { spans: spans.length, error: err instanceof Error ? err.name : "unknown" });
  }
}

let timerSince = 0;
/**
 * Flushes from a timer: for spans that end in a Durable Object (which has no response
 * to wait for). A timer that never ran (its request ended first) is replaced after a second.
 */
export function flushSoon(): void {
  if (!active || Date.now() - timerSince < 1000) return;
  timerSince = Date.now();
  setTimeout(() => {
    timerSince = 0;
    void flushSpans();
  }, 0);
}

/** Spans dropped since the isolate started (the buffer was full). */
export const droppedSpans = () => buffer.dropped;
