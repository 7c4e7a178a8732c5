/**
 * Reading a byte stream to its end, but never more than a bound: the one reader
 * behind request bodies (body.ts: MCP, OAuth and admin) and a sandbox's answers
 * (sandbox/client.ts).
 *
 * Memory use is bounded by the limit, not by the sender: chunks are counted as they
 * arrive, and the first chunk past the limit cancels the stream, so nothing more is
 * pulled and nothing of it is kept. A stream that errors rejects with the stream's
 * own error, for the caller to classify.
 */

/**
 * The bytes of `stream`, or null when it holds more than `maxBytes` (the stream is
 * then cancelled). A null stream is empty.
 */
export async function readBoundedBytes(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | null> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return joinBytes(chunks, total);
}

/** `parts` as one array of `size` bytes (their total); a single part is returned as it is. */
export function joinBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
