/**
 * Puts SMCP's span context into `params._meta.traceparent` of every JSON-RPC request
 * and notification of a client's body (SEP-414; OpenTelemetry's MCP conventions), so
 * whatever serves the message sees it: a built-in server's handlers (`ctx.mcpReq._meta`),
 * a deployed server's instance in its sandbox, an upstream (where client-span.ts puts
 * its own span in its place). Responses and messages whose `params` or `_meta` is not
 * an object are left as they are (the SDK refuses those with its own error).
 */
import type { ParsedBody } from "@smcp/runtime";

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `message` with `_meta.traceparent` set, or null when it is not a request or notification that can carry it. */
export function withTraceparent<T>(message: T, traceparent: string): T | null {
  if (!isPlainObject(message) || typeof message.method !== "string") return null;
  const params = message.params === undefined ? {} : message.params;
  if (!isPlainObject(params)) return null;
  const meta = params._meta === undefined ? {} : params._meta;
  if (!isPlainObject(meta)) return null;
  return { ...message, params: { ...params, _meta: { ...meta, traceparent } } } as T;
}

/**
 * A stamped body: its text is written when first read. The session lane sends the text to
 * the session object; the stateless lane hands the SDK the parsed message and never reads it.
 */
function stampedBody(json: unknown): ParsedBody {
  let text: string | undefined;
  return {
    json,
    get text() {
      return (text ??= JSON.stringify(json));
    },
  };
}

/** The body with every message stamped; the same body when nothing could be. */
export function stampTraceparent(body: ParsedBody, traceparent: string): ParsedBody {
  const stamp = (m: unknown) => withTraceparent(m, traceparent);
  if (Array.isArray(body.json)) {
    const messages: unknown[] = body.json;
    const stamped = messages.map((m) => stamp(m) ?? m);
    return stamped.some((m, i) => m !== messages[i]) ? stampedBody(stamped) : body;
  }
  const one = stamp(body.json);
  return one ? stampedBody(one) : body;
}
