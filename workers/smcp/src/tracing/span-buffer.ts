/**
 * Spans waiting for export, in isolate memory: bounded by count and by an estimate of
 * bytes. When full, the oldest span goes and a counter says how many went, so a slow or
 * absent collector costs a bounded amount of memory and never blocks a request.
 */
import type { Span } from "./span";

/** Estimate of one span's bytes: its strings (2 bytes a code unit) and a fixed overhead for ids, times and objects. */
export function spanBytes(span: Span): number {
  let chars = span.name.length;
  for (const [key, value] of Object.entries(span.attributes)) chars += key.length + (typeof value === "string" ? value.length : 8);
  return 2 * chars + 256 + 64 * span.links.length;
}

export class SpanBuffer {
  readonly #maxSpans: number;
  readonly #maxBytes: number;
  #spans: { span: Span; bytes: number }[] = [];
  #bytes = 0;
  /** Spans dropped because the buffer was full, since the isolate started. */
  dropped = 0;

  constructor(maxSpans: number, maxBytes: number) {
    this.#maxSpans = maxSpans;
    this.#maxBytes = maxBytes;
  }

  get size(): { spans: number; bytes: number } {
    return { spans: this.#spans.length, bytes: this.#bytes };
  }

  push(span: Span): void {
    const bytes = spanBytes(span);
    if (bytes > this.#maxBytes) {
      this.dropped++;
      return;
    }
    while (this.#spans.length >= this.#maxSpans || this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#spans.shift()!;
      this.#bytes -= oldest.bytes;
      this.dropped++;
    }
    this.#spans.push({ span, bytes });
    this.#bytes += bytes;
  }

  /** Takes up to `max` of the oldest spans out of the buffer. */
  take(max: number): Span[] {
    const taken = this.#spans.splice(0, max);
    for (const t of taken) this.#bytes -= t.bytes;
    return taken.map((t) => t.span);
  }
}
