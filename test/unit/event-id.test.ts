// SSE event ids `{stream}.{seq}` (packages/runtime/src/event-log.ts): what `Last-Event-ID` may be.
import { describe, expect, it } from "vitest";
import { formatEventId, parseEventId } from "../../packages/runtime/src/event-log";

describe("event ids", () => {
  it("resume:replay — round-trip through format and parse", () => {
    for (const [stream, seq] of [["_GET_stream", 1], ["abc", 0], ["a.b.c", 42], ["x", 999_999_999_999_999]] as const) {
      expect(parseEventId(formatEventId(stream, seq))).toEqual({ streamId: stream, seq });
    }
    expect(formatEventId("s1", 7)).toBe("s1.7");
  });

  it("resume:replay — split at the last dot, so stream ids may contain dots", () => {
    expect(parseEventId("a.b.12")).toEqual({ streamId: "a.b", seq: 12 });
  });

  it("resume:replay — refuse ids without a stream, without a seq, or with a seq that is not 1 to 15 digits", () => {
    for (const id of ["", "12", ".12", "abc", "abc.", "abc.-1", "abc.1e3", "abc.0x10", "abc.1.5x", "abc. 1", "abc.1 ", "abc.１", `abc.${"9".repeat(16)}`]) {
      expect(parseEventId(id), JSON.stringify(id)).toBeNull();
    }
  });

  it("resume:replay — accept leading zeros and 15 digits exactly (a safe integer)", () => {
    expect(parseEventId("s.007")).toEqual({ streamId: "s", seq: 7 });
    expect(parseEventId(`s.${"9".repeat(15)}`)).toEqual({ streamId: "s", seq: 999_999_999_999_999 });
    expect(Number.isSafeInteger(parseEventId(`s.${"9".repeat(15)}`)!.seq)).toBe(true);
  });
});
