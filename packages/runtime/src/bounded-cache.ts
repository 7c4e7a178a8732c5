/**
 * The one per-isolate cache: an LRU bounded in bytes, with a lifetime per entry.
 *
 * Every cache a request can fill is bounded by an estimate of the memory its entries
 * hold, not by their count: a stranger chooses how long the tenant and server names
 * in a URL are, so a count alone bounds nothing. Callers state the estimate per entry
 * (`sizeOf`); keys are counted as UTF-16 (two bytes a character) plus a fixed overhead
 * for the entry's bookkeeping. Keys must never be raw secrets: callers key by digest.
 *
 * A `Map` keeps insertion order, so re-inserting on a hit makes the first key the least
 * recently used one; eviction drops from the front until the new entry fits. Expired
 * entries are dropped when they are met (on `get`, or at the front while evicting).
 */

/** Bookkeeping of one entry (the map slot, the record, its numbers), as an estimate. */
export const CACHE_ENTRY_OVERHEAD_BYTES = 96;

/** The memory a string holds, as an estimate: two bytes a UTF-16 code unit. */
export const stringBytes = (s: string): number => s.length * 2;

export interface BoundedCacheOptions<V> {
  /** Upper bound of the sum of the entries' estimates. */
  maxBytes: number;
  /** How long an entry may be trusted, unless `set` says otherwise. */
  ttlMs: number;
  /** The estimated bytes of a value (the key and the overhead are added). */
  sizeOf: (value: V) => number;
  /**
   * Live entries to evict last (say, a handler with open streams): passed over while
   * others can make room, evicted oldest first only when nothing else is left.
   */
  spare?: (value: V) => boolean;
}

interface Entry<V> {
  value: V;
  until: number;
  bytes: number;
}

export class BoundedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #options: BoundedCacheOptions<V>;
  #bytes = 0;

  constructor(options: BoundedCacheOptions<V>) {
    this.#options = options;
  }

  /** The estimated bytes held now (never above `maxBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live value of `key`, marked as the most recently used; undefined when absent or expired. */
  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.until <= now) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry.value;
  }

  /**
   * Stores `value` until `now + ttlMs` (capped by the cache's lifetime when `ttlMs` is
   * given). An entry bigger than the whole cache is not stored.
   */
  set(key: string, value: V, now = Date.now(), ttlMs = this.#options.ttlMs): void {
    this.delete(key);
    const bytes = CACHE_ENTRY_OVERHEAD_BYTES + stringBytes(key) + this.#options.sizeOf(value);
    const lifetime = Math.min(ttlMs, this.#options.ttlMs);
    if (bytes > this.#options.maxBytes || lifetime <= 0) return;
    this.#makeRoom(bytes, now);
    this.#entries.set(key, { value, until: now + lifetime, bytes });
    this.#bytes += bytes;
  }

  /** Drops expired entries at the front, then the least recently used ones until `bytes` fit (spared ones last). */
  #makeRoom(bytes: number, now: number): void {
    const fits = () => this.#bytes + bytes <= this.#options.maxBytes;
    const spare = this.#options.spare;
    for (const [oldest, entry] of this.#entries) {
      if (fits() && entry.until > now) break;
      if (spare && entry.until > now && spare(entry.value)) continue;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
    for (const [oldest, entry] of this.#entries) {
      if (fits()) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
