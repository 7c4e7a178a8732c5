/**
 * Reading an MCP request body once, bounded, at the edge.
 *
 * The routing Worker reads and parses the body a single time: it needs the parsed
 * message to choose the protocol lane, and the session Durable Object receives the
 * same text instead of parsing a second stream. Oversized bodies are refused from
 * `Content-Length` when declared and while streaming otherwise, so memory use is
 * bounded by the limit, not by the client.
 */
import { parseJSONRPCMessage } from "@modelcontextprotocol/server";
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
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw wire.parseError("body is not valid UTF-8");
  }
}

/** Whether a parsed body is JSON-RPC 2.0 (a message or a non-empty batch), by the SDK's own schema. */
export function looksLikeJsonRpc(json: unknown): boolean {
  const isMessage = (m: unknown) => {
    try {
      parseJSONRPCMessage(m);
      return true;
    } catch {
      return false;
    }
  };
  return Array.isArray(json) ? json.length > 0 && json.every(isMessage) : isMessage(json);
}

