/**
 * SMCP's CLIENT span of one message it hands on: posted to an upstream
 * (gateway/upstream-client.ts) or sent to a deployed server's instance in its sandbox
 * (sandbox/sdk/relay.ts, sandbox/sdk/stateless-server.ts), wherever that runs (the
 * routing Worker, a session object, an upstream principal object). Its parent is the
 * SERVER span whose context the message carries in `_meta.traceparent` (stamp.ts); the
 * peer gets this span's context in the message's `_meta.traceparent` (and an upstream as
 * its HTTP `traceparent` header). A message without a context (SMCP's own probes and
 * replays) gets no span. The span ends with the peer's answer to the message, or its
 * failure; its flush is not awaited (a Durable Object has no response to wait for; in
 * the routing Worker the request's own flush keeps it alive).
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { formatTraceparent, isSampled, newSpanId, parseTraceparent } from "../trace";
import { flushSpans, recordSpan, tracingOn } from "./exporter";
import { answerOutcome, outcomeAttributes, type Outcome } from "./outcome";
import { mcpSpanName, messageAttributes, setAttribute, type AttributeValue } from "./span";
import { withTraceparent } from "./stamp";

export interface ClientCall {
  /** The message to send: `_meta.traceparent` names this span when there is one. */
  message: JSONRPCMessage;
  /** The `traceparent` header to send, or null. */
  traceparent: string | null;
  /** Whether a span is recorded: without one, `end` does nothing and need not be called. */
  recording: boolean;
  /** Ends the span (once): with the answer to the message, or a failure's kind. */
  end(outcome: Outcome): void;
  /** The outcome when `message` answers the call, else null. */
  answered(message: unknown): Outcome | null;
}

/** The call of `message` to an upstream at `url`. */
export function upstreamCall(message: JSONRPCMessage, url: URL): ClientCall {
  return clientCall(message, {
    "server.address": url.hostname,
    "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    "network.transport": "tcp",
    "network.protocol.name": "http",
  });
}

/** The call of `message` to a deployed server's instance. */
export const sandboxCall = (message: JSONRPCMessage, server: string, version: number): ClientCall => clientCall(message, { "smcp.server": server, "smcp.version": version });

function clientCall(message: JSONRPCMessage, peer: Record<string, AttributeValue>): ClientCall {
  const parent = parseTraceparent((message as { params?: { _meta?: { traceparent?: unknown } } }).params?._meta?.traceparent);
  const id = (message as { id?: unknown }).id;
  const rpcId = typeof id === "string" || typeof id === "number" ? id : null;
  const answered = (m: unknown) => (rpcId === null ? null : answerOutcome(m, rpcId));
  if (!parent) return { message, traceparent: null, recording: false, end: () => {}, answered };
  if (!tracingOn() || !isSampled(parent.flags)) return { message, traceparent: formatTraceparent(parent), recording: false, end: () => {}, answered };
  const context = { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags };
  const traceparent = formatTraceparent(context);
  const startMs = Date.now();
  let ended = false;
  return {
    message: withTraceparent(message, traceparent) ?? message,
    traceparent,
    recording: true,
    answered,
    end(outcome) {
      if (ended) return;
      ended = true;
      const { method, target, attributes } = messageAttributes(message);
      for (const [key, value] of Object.entries(peer)) setAttribute(attributes, key, value);
      const error = outcomeAttributes(attributes, outcome);
      const seq = recordSpan({ traceId: context.traceId, spanId: context.spanId, parentSpanId: parent.spanId, name: mcpSpanName(method ?? "unknown", target), kind: "client", startMs, endMs: Date.now(), attributes, error, links: [] });
      void flushSpans(seq);
    },
  };
}
