/**
 * SMCP's SERVER span of one MCP request (`/mcp/{tenant}/{server}`), on both lanes, in
 * the routing Worker: two hooks, where the message is known (`traceMessage`, in the
 * endpoint) and where the response leaves (`traceResponse`, in the Worker's fetch).
 *
 * The span ends when the answer is complete: its outcome is read off a clone of the
 * response (a JSON body, or an event stream up to the answer to the request's id) in
 * `ctx.waitUntil`, after the response has gone, and then the buffer is flushed. A GET
 * stream, a DELETE and a `subscriptions/listen` end at their headers. Attributes:
 * OpenTelemetry's MCP conventions (`mcp.method.name`, `mcp.session.id`,
 * `mcp.protocol.version`, `jsonrpc.request.id`, `gen_ai.tool.name`,
 * `gen_ai.operation.name`, `error.type`) and SMCP's `smcp.tenant`, `smcp.server`,
 * `smcp.lane`; nothing of arguments, results or credentials.
 */
import { readBoundedBytes, type ParsedBody } from "@smcp/runtime";
import { readSse } from "../gateway/sse";
import type { RequestContext } from "../request-context";
import { isSampled, withMessageParent } from "../trace";
import { configureTracing, flushSpans, recordSpan } from "./exporter";
import { answerOutcome, outcomeAttributes, type Outcome } from "./outcome";
import { mcpSpanName, messageAttributes, setAttribute, type AttributeValue } from "./span";
import { stampTraceparent } from "./stamp";

/** How long the span waits for the answer on an event stream; `waitUntil` allows about 30 s after the response. */
const ANSWER_WAIT_MS = 25_000;
const MAX_JSON_ANSWER_BYTES = 256 * 1024;
const MAX_SSE_EVENT_CHARS = 4 * 1024 * 1024;

interface Call {
  method: string | null;
  target: string | null;
  id: string | number | null;
  attributes: Record<string, AttributeValue>;
}

const calls = new WeakMap<RequestContext, Call>();

/** The revision a message names: the 2026 envelope's, or `initialize`'s `protocolVersion`. */
function revisionOf(json: unknown): string | null {
  const first = (Array.isArray(json) ? json[0] : json) as { method?: unknown; params?: { protocolVersion?: unknown; _meta?: Record<string, unknown> } } | undefined;
  const envelope = first?.params?._meta?.["io.modelcontextprotocol/protocolVersion"];
  if (typeof envelope === "string") return envelope;
  return first?.method === "initialize" && typeof first.params?.protocolVersion === "string" ? first.params.protocolVersion : null;
}

/**
 * Once the body is parsed: the message's `_meta.traceparent` becomes the span's parent
 * (the HTTP one a link), the call is noted for the span, and the body comes back with
 * SMCP's span context in each message's `_meta.traceparent`.
 */
export function traceMessage(rc: RequestContext, body: ParsedBody, env: object): ParsedBody {
  rc.trace = withMessageParent(rc.trace, body.json);
  // The context is passed on whether or not spans are exported; the call is noted only for a span.
  if (configureTracing(env)) noteCall(rc, body.json);
  return stampTraceparent(body, rc.trace.traceparent);
}

function noteCall(rc: RequestContext, json: unknown): void {
  const { method, target, attributes } = messageAttributes(json);
  setAttribute(attributes, "mcp.protocol.version", revisionOf(json));
  const first = (Array.isArray(json) ? json[0] : json) as { id?: unknown } | undefined;
  const id = typeof first?.id === "string" || typeof first?.id === "number" ? first.id : null;
  calls.set(rc, { method, target, id, attributes });
}

/**
 * After the route answered an MCP request: the work that ends its span, for
 * `ctx.waitUntil`; null when there is no span (not an MCP route, export off, or a
 * caller that did not sample its trace).
 */
export function traceResponse(request: Request, response: Response, rc: RequestContext, env: object, startMs: number): Promise<void> | null {
  if (rc.tenant === undefined || !configureTracing(env) || !isSampled(rc.trace.flags)) return null;
  const call = calls.get(rc) ?? { method: null, target: null, id: null, attributes: {} };
  const attributes: Record<string, AttributeValue> = { ...call.attributes };
  setAttribute(attributes, "mcp.session.id", rc.session ?? response.headers.get("mcp-session-id"));
  if (attributes["mcp.protocol.version"] === undefined) setAttribute(attributes, "mcp.protocol.version", request.headers.get("mcp-protocol-version"));
  setAttribute(attributes, "smcp.tenant", rc.tenant);
  setAttribute(attributes, "smcp.server", rc.server);
  setAttribute(attributes, "smcp.lane", rc.lane);
  attributes["network.transport"] = "tcp";
  attributes["network.protocol.name"] = "http";
  attributes["http.request.method"] = request.method;
  attributes["http.response.status_code"] = response.status;
  const name = call.method ? mcpSpanName(call.method, call.target) : `${request.method} /mcp/{tenant}/{server}`;
  const waitsForAnswer = request.method === "POST" && call.id !== null && call.method !== "subscriptions/listen" && response.body !== null;
  let clone: Response | null = null;
  try {
    clone = waitsForAnswer ? response.clone() : null;
  } catch {
    // A body that cannot be teed: the span ends now, without the answer's outcome; the response itself is untouched.
  }
  const trace = rc.trace;
  return (async () => {
    const outcome = (clone ? await answerIn(clone, call.id) : null) ?? {};
    let error = outcomeAttributes(attributes, outcome);
    if (!outcome.errorType && response.status >= 400) {
      attributes["error.type"] = String(response.status);
      error = true;
    }
    const seq = recordSpan({
      traceId: trace.traceId,
      spanId: trace.spanId,
      ...(trace.parentSpanId ? { parentSpanId: trace.parentSpanId } : {}),
      name,
      kind: "server",
      startMs,
      endMs: Date.now(),
      attributes,
      error,
      links: trace.links,
    });
    await flushSpans(seq);
  })();
}

/** The outcome of the answer to `id` in `response`'s body, read within bounds; null when it is not there. */
async function answerIn(response: Response, id: string | number | null): Promise<Outcome | null> {
  const body = response.body!;
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && type !== "text/event-stream") {
    await body.cancel().catch(() => {});
    return null;
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  // Past the wait the reading stops at the next event (readSse cancels the clone then): its branch must not hold what the client has not read yet.
  let stopped = false;
  const gaveUp = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ANSWER_WAIT_MS)));
  const read = (async (): Promise<Outcome | null> => {
    if (type === "application/json") {
      const bytes = await readBoundedBytes(body, MAX_JSON_ANSWER_BYTES);
      if (bytes === null) return null;
      const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
      for (const m of Array.isArray(json) ? json : [json]) {
        const outcome = answerOutcome(m, id);
        if (outcome) return outcome;
      }
      return null;
    }
    for await (const event of readSse(body, { maxLineChars: MAX_SSE_EVENT_CHARS, maxEventChars: MAX_SSE_EVENT_CHARS })) {
      if (stopped) return null;
      if (event.data === "") continue;
      const outcome = answerOutcome(JSON.parse(event.data), id);
      if (outcome) return outcome;
    }
    return null;
  })().catch(() => null);
  try {
    return await Promise.race([read, gaveUp]);
  } finally {
    clearTimeout(timer);
    stopped = true;
  }
}
