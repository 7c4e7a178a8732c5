/**
 * A bounded Server-Sent Events reader for upstream answers: what an upstream writes is
 * untrusted, so a line and an event are each capped, and a stream that passes a cap
 * ends with an error (the caller turns it into a JSON-RPC error for the request it
 * was answering). Only the `data`, `event` and `id` fields are kept; comments and
 * `retry` are skipped. Memory use is bounded by the caps, not by the sender.
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

export class SseLimitError extends Error {}

export interface SseLimits {
  /** The longest line, in UTF-16 code units of the decoded text (a byte bound would be at most 3x this in UTF-8). */
  maxLineChars: number;
  /** The most data one event may carry. */
  maxEventChars: number;
}

/**
 * The events of `stream`, in order; throws `SseLimitError` past a cap. The bytes are
 * decoded here (a streaming TextDecoder) rather than through a TextDecoderStream pipe:
 * a pipe costs every answer of an upstream a stream hop and its CPU. Lines are found
 * with one scan of what is new, so a long line costs no rescans.
 */
export async function* readSse(stream: ReadableStream<Uint8Array>, limits: SseLimits): AsyncGenerator<SseEvent> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  /** Where the scan for the next line end resumes (everything before it has none). */
  let scanned = 0;
  let data: string[] = [];
  let dataChars = 0;
  let event = "";
  let id: string | null = null;
  try {
    for (let ended = false; !ended; ) {
      const { done, value } = await reader.read();
      ended = done;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        let nl = scanned;
        while (nl < buffer.length && buffer.charCodeAt(nl) !== 10 && buffer.charCodeAt(nl) !== 13) nl++;
        if (nl === buffer.length) {
          scanned = nl;
          break;
        }
        // A lone \r at the chunk's end may be the first half of \r\n: wait for more.
        if (buffer.charCodeAt(nl) === 13 && nl + 1 === buffer.length && !ended) {
          scanned = nl;
          break;
        }
        const line = buffer.slice(start, nl);
        start = nl + (buffer.charCodeAt(nl) === 13 && buffer.charCodeAt(nl + 1) === 10 ? 2 : 1);
        scanned = start;
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          data = [];
          dataChars = 0;
          event = "";
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "data") {
          dataChars += val.length + 1;
          if (dataChars > limits.maxEventChars) throw new SseLimitError(`an event larger than ${limits.maxEventChars} characters`);
          data.push(val);
        } else if (field === "event") event = val.slice(0, 64);
        else if (field === "id") id = val.slice(0, 256);
      }
      buffer = buffer.slice(start);
      scanned -= start;
      if (buffer.length > limits.maxLineChars) throw new SseLimitError(`a line longer than ${limits.maxLineChars} characters`);
    }
    // An event the stream ended in the middle of is dropped (the SSE standard's rule).
  } finally {
    await reader.cancel().catch(() => {});
  }
}
