/**
 * Reading an MCP request body once, bounded, at the edge.
 *
 * The routing Worker reads and parses the body a single time: it needs the parsed
 * message to choose the protocol lane, and the session Durable Object receives the
 * same text instead of parsing a second stream. Oversized bodies are refused from
 * `Content-Length` when declared and while streaming otherwise, so memory use is
 * bounded by the limit, not by the client.
 */
import { wire } from "./errors";

export type ParsedBody = { text: string; json: unknown };

export async function readJsonBody(request: Request, maxBytes: number): Promise<ParsedBody> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw wire.tooLarge(maxBytes);
  const text = await readBoundedText(request, maxBytes);
  if (text.trim() === "") throw wire.parseError("empty body");
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    throw wire.parseError();
  }
}

async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  // A declared length was already checked against the bound: read it in one native call.
  if (request.headers.get("content-length") !== null) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw wire.tooLarge(maxBytes);
    return decodeUtf8(bytes);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw wire.tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decodeUtf8(bytes);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw wire.parseError("body is not valid UTF-8");
  }
}

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

