/** The per-isolate cache helper: bounded in bytes (not entries), least recently used first out, entries expire. */
import { describe, expect, it } from "vitest";
import { BoundedCache, CACHE_ENTRY_OVERHEAD_BYTES, stringBytes } from "../../packages/runtime/src/bounded-cache";

const cacheOf = (maxBytes: number, ttlMs = 1_000) => new BoundedCache<string>({ maxBytes, ttlMs, sizeOf: stringBytes });
const entryBytes = (key: string, value: string) => CACHE_ENTRY_OVERHEAD_BYTES + stringBytes(key) + stringBytes(value);

describe("BoundedCache", () => {
  it("platform:bounded-caches — counts each entry's estimated bytes, key and overhead included", () => {
    const cache = cacheOf(10_000);
    cache.set("k1", "value", 0);
    expect(cache.bytes).toBe(entryBytes("k1", "value"));
    cache.set("k1", "v", 0);
    expect(cache.bytes).toBe(entryBytes("k1", "v"));
    cache.delete("k1");
    expect(cache.bytes).toBe(0);
    expect(cache.size).toBe(0);
  });

  it("platform:bounded-caches — never holds more than maxBytes, however long the keys a caller is handed", () => {
    const max = 4_096;
    const cache = cacheOf(max);
    for (let i = 0; i < 1_000; i++) cache.set(`tenant-${i}/${"x".repeat(i % 300)}`, "decision", 0);
    expect(cache.bytes).toBeLessThanOrEqual(max);
    expect(cache.size).toBeGreaterThan(0);
    // The newest entry is always kept; the oldest went first.
    expect(cache.get(`tenant-999/${"x".repeat(999 % 300)}`, 1)).toBe("decision");
    expect(cache.get("tenant-0/", 1)).toBeUndefined();
  });

  it("platform:bounded-caches — evicts the least recently used entry, not the least recently inserted", () => {
    const one = entryBytes("a", "1");
    const cache = cacheOf(one * 2);
    cache.set("a", "1", 0);
    cache.set("b", "1", 0);
    expect(cache.get("a", 1)).toBe("1"); // a is now the most recently used
    cache.set("c", "1", 2);
    expect(cache.get("b", 3)).toBeUndefined();
    expect(cache.get("a", 3)).toBe("1");
    expect(cache.get("c", 3)).toBe("1");
  });

  it("platform:bounded-caches — refuses an entry bigger than the whole cache and keeps what it had", () => {
    const cache = cacheOf(500);
    cache.set("small", "x", 0);
    cache.set("huge", "y".repeat(1_000), 0);
    expect(cache.get("huge", 1)).toBeUndefined();
    expect(cache.get("small", 1)).toBe("x");
  });

  it("platform:bounded-caches — expires entries after the cache's lifetime or a shorter one given per entry", () => {
    const cache = cacheOf(10_000, 1_000);
    cache.set("long", "x", 0, 60_000); // capped at the cache's 1 000 ms
    cache.set("short", "x", 0, 100);
    expect(cache.get("short", 99)).toBe("x");
    expect(cache.get("short", 100)).toBeUndefined();
    expect(cache.get("long", 999)).toBe("x");
    expect(cache.get("long", 1_000)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it("platform:bounded-caches — drops expired entries at the front before evicting live ones", () => {
    const one = entryBytes("a", "1");
    const cache = cacheOf(one * 2, 1_000);
    cache.set("a", "1", 0, 10);
    cache.set("b", "1", 0);
    cache.set("c", "1", 20); // a has expired: it goes, b stays
    expect(cache.get("b", 21)).toBe("1");
    expect(cache.get("c", 21)).toBe("1");
    expect(cache.bytes).toBe(one * 2);
  });

  it("platform:bounded-caches stateless:listen-scoped — spared entries go last: others make room first, the oldest spared only when nothing else is left", () => {
    const one = entryBytes("a", "pin");
    const cache = new BoundedCache<string>({ maxBytes: one * 2, ttlMs: 1_000, sizeOf: stringBytes, spare: (v) => v === "pin" });
    cache.set("a", "pin", 0);
    cache.set("b", "ok!", 0);
    cache.set("c", "ok!", 0); // b goes, not the older spared a
    expect([cache.get("a", 1), cache.get("b", 1), cache.get("c", 1)]).toEqual(["pin", undefined, "ok!"]);
    cache.set("c", "pin", 2);
    cache.set("d", "ok!", 3); // only spared entries left: the least recently used of them goes
    expect([cache.get("a", 4), cache.get("c", 4), cache.get("d", 4)]).toEqual([undefined, "pin", "ok!"]);
    expect(cache.bytes).toBe(one * 2);
  });
});
