/**
 * Reading an MCP request body once, bounded, at the edge.
 *
 * The routing Worker reads and parses the body a single time: it needs the parsed
 * message to choose the protocol lane, and the session Durable Object receives the
 * same text instead of parsing a second stream. Oversized bodies are refused from
 * `Content-Length` when declared and while streaming otherwise, so memory use is
 * bounded by the limit, not by the client.
 */
import { readBoundedBytes } from "./bounded-stream";
import { wire } from "./errors";

export type ParsedBody = { text: string; json: unknown };

export async function readJsonBody(request: Request, maxBytes: number): Promise<ParsedBody> {
  const read = await readBoundedUtf8(request, maxBytes);
  if (!read.ok) throw read.reason === "too-large" ? wire.tooLarge(maxBytes) : wire.parseError("body is not valid UTF-8");
  const text = read.text;
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    // Told apart only once parsing failed: a blank body never parses, and a good one is not copied by a trim.
    throw text.trim() === "" ? wire.parseError("empty body") : wire.parseError();
  }
}

export type BoundedText = { ok: true; text: string } | { ok: false; reason: "too-large" | "not-utf8" };

/**
 * A request body as UTF-8 text, refusing more than `maxBytes` whether declared or
 * streamed. A tagged result, so each caller answers in its own error family (MCP,
 * OAuth, admin).
 */
export async function readBoundedUtf8(request: Request, maxBytes: number): Promise<BoundedText> {
  const declared = request.headers.get("content-length");
  if (Number(declared ?? 0) > maxBytes) return { ok: false, reason: "too-large" };
  if (!request.body) return { ok: true, text: "" };
  let bytes: Uint8Array;
  if (declared !== null) {
    // A declared length bounds the stream: read it in one native call.
    bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) return { ok: false, reason: "too-large" };
  } else {
    const read = await readBoundedBytes(request.body, maxBytes);
    if (!read) return { ok: false, reason: "too-large" };
    bytes = read;
  }
  try {
    return { ok: true, text: utf8.decode(bytes) };
  } catch {
    return { ok: false, reason: "not-utf8" };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Whether a parsed body has the shape of JSON-RPC 2.0: a request or notification
 * (`method`), or a response (`id` with `result` or `error`), alone or in a non-empty
 * batch. A structural check only: the SDK validates each message fully once, where
 * it is handled, so the edge does not run the schema a second time.
 */
export function looksLikeJsonRpc(json: unknown): boolean {
  return Array.isArray(json) ? json.length > 0 && json.every(isMessage) : isMessage(json);
}

function isMessage(m: unknown): boolean {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return false;
  const message = m as Record<string, unknown>;
  if (message.jsonrpc !== "2.0") return false;
  if (typeof message.method === "string") return true;
  return "id" in message && ("result" in message || "error" in message);
}

