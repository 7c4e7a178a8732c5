// The CLI's text layout (packages/cli/src/format.mjs) and event-log summaries
// (summarize.mjs): exact strings, fixed clock.
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { bytes, clock, duration, fields, plural, relativeTime, table, timestamp, truncate } from "../../packages/cli/src/format.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { summarizeMessage } from "../../packages/cli/src/summarize.mjs";

const NOW = Date.UTC(2025, 5, 1, 12, 0, 5);

describe("table", () => {
  it("admin:cli — aligns columns two spaces apart, numbers right, the last column unpadded, blanks as -", () => {
    const out = table(["ID", "COUNT", "NOTE"], [
      ["a", 5, "first"],
      ["longer", 120, null],
      ["b", "-", ""],
    ]);
    expect(out).toBe(["ID      COUNT  NOTE", "a           5  first", "longer    120  -", "b           -  -"].join("\n"));
  });

  it("admin:cli — a header alone when there are no rows; a mixed column stays left-aligned", () => {
    expect(table(["A", "B"], [])).toBe("A  B");
    expect(table(["A", "B"], [[1, "x"], ["y", 2]])).toBe(["A  B", "1  x", "y  2"].join("\n"));
  });
});

describe("fields", () => {
  it("admin:cli — aligns values after the longest label and drops null values", () => {
    expect(fields([["id", "acme"], ["name", null], ["sessions", 3], ["x", undefined]])).toBe("id        acme\nsessions  3");
    expect(fields([])).toBe("");
  });
});

describe("times", () => {
  it("admin:cli — relativeTime takes the largest whole unit", () => {
    expect(relativeTime(NOW, NOW)).toBe("now");
    expect(relativeTime(NOW - 999, NOW)).toBe("now");
    expect(relativeTime(NOW - 1000, NOW)).toBe("1s ago");
    expect(relativeTime(NOW - 59_999, NOW)).toBe("59s ago");
    expect(relativeTime(NOW - 3 * 60_000 - 59_000, NOW)).toBe("3m ago");
    expect(relativeTime(NOW + 27 * 60_000, NOW)).toBe("in 27m");
    expect(relativeTime(NOW + 2 * 3_600_000, NOW)).toBe("in 2h");
    expect(relativeTime(NOW - 3 * 86_400_000 - 1, NOW)).toBe("3d ago");
    expect(relativeTime(null, NOW)).toBe("-");
    expect(relativeTime(undefined, NOW)).toBe("-");
  });

  it("admin:cli — timestamp and clock are UTC to the second", () => {
    expect(timestamp(NOW - 180_000, NOW)).toBe("2025-06-01 11:57:05Z (3m ago)");
    expect(timestamp(null, NOW)).toBe("-");
    expect(clock(NOW)).toBe("12:00:05");
    expect(clock(NOW, true)).toBe("2025-06-01 12:00:05Z");
  });
});

describe("sizes and counts", () => {
  it("admin:cli — bytes switch units at 1024", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1023)).toBe("1023 B");
    expect(bytes(1024)).toBe("1.0 KB");
    expect(bytes(1536)).toBe("1.5 KB");
    expect(bytes(1024 * 1024)).toBe("1.0 MB");
    expect(bytes(4 * 1024 * 1024 + 512 * 1024)).toBe("4.5 MB");
  });

  it("admin:cli — duration is ms below a second, seconds with one decimal above", () => {
    expect(duration(0)).toBe("0 ms");
    expect(duration(12.4)).toBe("12 ms");
    expect(duration(999)).toBe("999 ms");
    expect(duration(1000)).toBe("1.0 s");
    expect(duration(12_345)).toBe("12.3 s");
  });

  it("admin:cli — truncate flattens whitespace and cuts with an ellipsis to exactly max characters", () => {
    expect(truncate("  a\n\tb  ", 10)).toBe("a b");
    expect(truncate("abcdef", 6)).toBe("abcdef");
    expect(truncate("abcdefg", 6)).toBe("abcde…");
    expect(truncate("abcdefg", 6)).toHaveLength(6);
  });

  it("admin:cli — plural", () => {
    expect(plural(0, "session")).toBe("0 sessions");
    expect(plural(1, "session")).toBe("1 session");
    expect(plural(2, "key")).toBe("2 keys");
  });
});

describe("summarizeMessage", () => {
  it("admin:cli — one line per kind of message", () => {
    expect(summarizeMessage({})).toBe("(priming event)");
    expect(summarizeMessage({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "add_note" } })).toBe("tools/call add_note #3");
    expect(summarizeMessage({ jsonrpc: "2.0", id: 4, error: { code: -32602, message: "Invalid params" } })).toBe("error #4 -32602 Invalid params");
    expect(summarizeMessage({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: 2, total: 5 } })).toBe("notifications/progress 2/5");
    expect(summarizeMessage({ jsonrpc: "2.0", id: 3, result: { content: [{ type: "text", text: "Added note 1" }] } })).toBe('result #3 "Added note 1"');
    expect(summarizeMessage({ jsonrpc: "2.0", id: 5, result: { content: [{ type: "text", text: "no" }], isError: true } })).toBe('result #5 (tool error) "no"');
    expect(summarizeMessage({ jsonrpc: "2.0", id: 1, result: { protocolVersion: "2025-11-25", serverInfo: { name: "notes" } } })).toBe("result #1 initialize 2025-11-25 notes");
    expect(summarizeMessage({ jsonrpc: "2.0", id: 2, result: { tools: [{}, {}] } })).toBe("result #2 (2 tools)");
    expect(summarizeMessage({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: { a: 1 } } })).toBe('notifications/message info: {"a":1}');
    expect(summarizeMessage([{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", method: "x" }])).toBe("batch: ping #1; x");
  });

  it("admin:cli — degrades to a shorter line for what it does not know, never throws, never exceeds 100 characters", () => {
    expect(summarizeMessage(null)).toBe("null");
    expect(summarizeMessage(42)).toBe("42");
    expect(summarizeMessage({ jsonrpc: "2.0", id: 9, result: 7 })).toBe("result #9");
    expect(summarizeMessage({ weird: true })).toBe('{"weird":true}');
    const long = summarizeMessage({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x".repeat(500) } });
    expect(long).toHaveLength(100);
    expect(long.endsWith("…")).toBe(true);
  });
});
