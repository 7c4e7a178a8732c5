/**
 * OTLP/HTTP export of spans, when the operator sets `SMCP_OTLP_ENDPOINT` (the one
 * call-out besides a tenant's own upstreams and egress). Spans wait in one buffer per
 * isolate (span-buffer.ts: bounded, oldest dropped and counted) and leave in batches,
 * posted as JSON (otlp-json.ts) with a timeout, never awaited by a response: the routing
 * Worker flushes in `ctx.waitUntil` after its response; a span that ends in a Durable
 * Object is flushed there by a call nobody awaits (the object outlives it). Concurrent
 * requests' spans leave together (`flushSpans`). A failed post drops its batch (logged):
 * export is best effort and must not grow memory. Nothing here is logged with the
 * configured header values.
 */
import { logEvent } from "../log";
import { encodeTraces, type Resource } from "./otlp-json";
import type { Span } from "./span";
import { SpanBuffer } from "./span-buffer";

export const MAX_BUFFERED_SPANS = 2048;
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export const MAX_BATCH_SPANS = 512;
export const EXPORT_TIMEOUT_MS = 5000;
/** How long a flush gathers spans of concurrent requests before posting them as one batch. */
export const BATCH_DELAY_MS = 200;
const POLL_MS = 50;
const LEADER_STALE_MS = BATCH_DELAY_MS + EXPORT_TIMEOUT_MS + 1000;
/** Under `waitUntil`'s 30 s after the response. */
const MAX_FLUSH_WAIT_MS = 20_000;

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

/** Keeps a finished span for the next export; returns its sequence number (0 when export is off). */
export function recordSpan(span: Span): number {
  return active ? buffer.push(span) : 0;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** When a flush started gathering; 0 when none is under way. */
let leaderSince = 0;

/**
 * Resolves once the span numbered `through` has left (posted or dropped), or after
 * `MAX_FLUSH_WAIT_MS`. One caller at a time leads: it waits `BATCH_DELAY_MS` for the
 * spans of concurrent requests, then posts everything buffered in batches; the others
 * poll, each in its own request, until their span has been settled: no promise is
 * shared across requests, and each request's `waitUntil` lasts until its span is out. A
 * leader whose request ended mid-way is taken over once it is stale.
 */
export async function flushSpans(through: number = buffer.lastSeq): Promise<void> {
  const started = Date.now();
  while (active && buffer.settledThrough < through && Date.now() - started < MAX_FLUSH_WAIT_MS) {
    if (Date.now() - leaderSince > LEADER_STALE_MS) await lead(active);
    else await sleep(POLL_MS);
  }
}

async function lead(target: ExportTarget): Promise<void> {
  leaderSince = Date.now();
  try {
    await sleep(BATCH_DELAY_MS);
    if (buffer.dropped > reportedDrops) {
      logEvent("warn", "spans dropped: the export buffer was full", { dropped: buffer.dropped - reportedDrops, droppedTotal: buffer.dropped });
      reportedDrops = buffer.dropped;
    }
    for (let batch = buffer.take(MAX_BATCH_SPANS); batch.spans.length > 0; batch = buffer.take(MAX_BATCH_SPANS)) {
      await post(target, batch.spans);
      buffer.settle(batch.through);
      leaderSince = Date.now();
    }
  } finally {
    leaderSince = 0;
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

/** Spans dropped since the isolate started (the buffer was full). */
export const droppedSpans = () => buffer.dropped;
