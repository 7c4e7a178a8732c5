/**
 * Spans waiting for export, in isolate memory: bounded by count and by an estimate of
 * bytes. When full, the oldest span goes and a counter says how many went, so a slow or
 * absent collector costs a bounded amount of memory and never blocks a request.
 *
 * Each span gets a sequence number; `settledThrough` is the highest one that has left
 * (posted, or dropped): a request waits for its own span to be settled, not for a
 * promise of another request (exporter.ts).
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
  #spans: { span: Span; bytes: number; seq: number }[] = [];
  #bytes = 0;
  #seq = 0;
  #settled = 0;
  /** Spans dropped because the buffer was full, since the isolate started. */
  dropped = 0;

  constructor(maxSpans: number, maxBytes: number) {
    this.#maxSpans = maxSpans;
    this.#maxBytes = maxBytes;
  }

  get size(): { spans: number; bytes: number } {
    return { spans: this.#spans.length, bytes: this.#bytes };
  }

  /** The sequence number of the newest span pushed. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The highest sequence number that has left the buffer for good (posted or dropped). */
  get settledThrough(): number {
    return this.#settled;
  }

  /** Keeps `span`, dropping the oldest while over a bound; returns its sequence number. */
  push(span: Span): number {
    const seq = ++this.#seq;
    const bytes = spanBytes(span);
    if (bytes > this.#maxBytes) {
      this.dropped++;
      this.settle(seq);
      return seq;
    }
    while (this.#spans.length >= this.#maxSpans || this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#spans.shift()!;
      this.#bytes -= oldest.bytes;
      this.dropped++;
      this.settle(oldest.seq);
    }
    this.#spans.push({ span, bytes, seq });
    this.#bytes += bytes;
    return seq;
  }

  /** Takes up to `max` of the oldest spans out of the buffer, with the sequence number of the last one. */
  take(max: number): { spans: Span[]; through: number } {
    const taken = this.#spans.splice(0, max);
    for (const t of taken) this.#bytes -= t.bytes;
    return { spans: taken.map((t) => t.span), through: taken.at(-1)?.seq ?? this.#settled };
  }

  /** Spans through `seq` have left (their batch was posted, or failed and was dropped). */
  settle(seq: number): void {
    if (seq > this.#settled) this.#settled = seq;
  }
}
