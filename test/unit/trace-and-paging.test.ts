// W3C trace context (workers/smcp/src/trace.ts) and the admin API's paging (admin/paging.ts).
import { describe, expect, it } from "vitest";
import { WireError } from "../../packages/runtime/src/errors";
import { nextCursor, readPage } from "../../workers/smcp/src/admin/paging";
import { traceOf } from "../../workers/smcp/src/trace";

const withTraceparent = (value?: string) => new Request("https://smcp.test/mcp/a/b", value === undefined ? {} : { headers: { traceparent: value } });

describe("traceOf", () => {
  it("platform:observability admin:sessions — keeps a valid incoming trace id and flags, with a new parent id for this hop", () => {
    const trace = traceOf(withTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
    expect(trace.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(trace.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    expect(trace.traceparent).not.toContain("00f067aa0ba902b7");
  });

  it("platform:observability admin:sessions — accepts uppercase and surrounding space", () => {
    expect(traceOf(withTraceparent(" 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01 ")).traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("platform:observability admin:sessions — mints a fresh sampled trace for a missing, malformed or all-zero traceparent", () => {
    for (const value of [undefined, "", "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`]) {
      const trace = traceOf(withTraceparent(value));
      expect(trace.traceId, String(value)).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.traceId).not.toBe("0".repeat(32));
      expect(trace.traceId).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(trace.traceparent).toMatch(new RegExp(`^00-${trace.traceId}-[0-9a-f]{16}-01$`));
    }
  });
});

describe("readPage", () => {
  const page = (query: string, defaultLimit?: number) => readPage(new Request(`https://smcp.test/x${query}`), defaultLimit);

  it("platform:observability admin:sessions — defaults to after 0 and the given limit", () => {
    expect(page("")).toEqual({ after: 0, limit: 100 });
    expect(page("", 20)).toEqual({ after: 0, limit: 20 });
    expect(page("?after=41&limit=1000")).toEqual({ after: 41, limit: 1000 });
    expect(page("?limit=1")).toEqual({ after: 0, limit: 1 });
  });

  it("platform:observability admin:sessions — refuses anything but an integer after >= 0 and a limit in 1..1000, with invalid_query", () => {
    for (const query of ["?after=-1", "?after=1.5", "?after=abc", "?limit=0", "?limit=1001", "?limit=2.5", "?limit=abc", "?after=1e400"]) {
      let error: unknown;
      try {
        page(query);
      } catch (err) {
        error = err;
      }
      expect(error, query).toBeInstanceOf(WireError);
      expect(error).toMatchObject({ status: 400, code: "invalid_query" });
    }
  });
});

describe("nextCursor", () => {
  it("platform:observability admin:sessions — is the last seq of a full page, null for a short one", () => {
    expect(nextCursor([{ seq: 3 }, { seq: 7 }], 2)).toBe(7);
    expect(nextCursor([{ seq: 3 }], 2)).toBeNull();
    expect(nextCursor([], 1)).toBeNull();
  });
});
