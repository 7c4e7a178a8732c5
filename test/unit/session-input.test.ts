// Unit tier: how a 2026 upstream's input_required answer is read for a 2025 session client (gateway/session-input.ts).
import { describe, expect, it } from "vitest";
import { legacyParams, missingCapability, readInputRequired } from "../../workers/smcp/src/gateway/session-input";

const elicit = { method: "elicitation/create", params: { mode: "form", message: "ok?", requestedSchema: { type: "object", properties: {} } } };
const sample = { method: "sampling/createMessage", params: { messages: [], maxTokens: 5 } };

describe("input_required for a 2025 client", () => {
  it("upstream:2026-input-bridge — the input requests and requestState are read as the upstream wrote them; a state alone is a round too", () => {
    expect(readInputRequired({ resultType: "input_required", inputRequests: { a: elicit, b: { method: "roots/list" } }, requestState: "s1" })).toEqual({
      ok: true,
      requests: [
        { key: "a", method: "elicitation/create", params: elicit.params },
        { key: "b", method: "roots/list", params: {} },
      ],
      requestState: "s1",
    });
    expect(readInputRequired({ requestState: "only" })).toEqual({ ok: true, requests: [], requestState: "only" });
  });

  it("upstream:2026-input-bridge untrusted:messages — what the revision does not define, or more than SMCP bounds, is refused with a reason", () => {
    const reason = (r: Record<string, unknown>) => {
      const read = readInputRequired(r);
      return read.ok ? "read" : read.reason;
    };
    expect(reason({})).toContain("neither inputRequests nor requestState");
    expect(reason({ inputRequests: { x: { method: "tools/call", params: {} } } })).toContain("is not a sampling/createMessage, elicitation/create or roots/list request");
    expect(reason({ inputRequests: { x: { method: "sampling/createMessage" } } })).toContain("has no params");
    expect(reason({ inputRequests: [] })).toContain("not an object");
    expect(reason({ requestState: 5 })).toContain("requestState");
    expect(reason({ requestState: "x".repeat(70_000) })).toContain("requestState");
    expect(reason({ inputRequests: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, elicit])) })).toContain("more than 16 inputs");
    expect(reason({ inputRequests: { ["k".repeat(200)]: elicit } })).toContain("longer than 128");
  });

  it("upstream:2026-input-bridge — each input needs what the client declared at initialize: sampling (with tools: sampling.tools), elicitation (URL mode: elicitation.url), roots", () => {
    const input = (entry: { method: string; params?: Record<string, unknown> }) => {
      const read = readInputRequired({ inputRequests: { k: entry } });
      if (!read.ok) throw new Error(read.reason);
      return read.requests[0]!;
    };
    expect(missingCapability(input(sample), {})).toBe("sampling");
    expect(missingCapability(input(sample), { sampling: {} })).toBeNull();
    expect(missingCapability(input({ ...sample, params: { ...sample.params, tools: [] } }), { sampling: {} })).toBe("sampling.tools");
    expect(missingCapability(input(elicit), { elicitation: {} })).toBeNull();
    expect(missingCapability(input(elicit), undefined)).toBe("elicitation");
    const url = input({ method: "elicitation/create", params: { mode: "url", message: "sign in", url: "https://example.com/a" } });
    expect(missingCapability(url, { elicitation: { form: {} } })).toBe("elicitation.url");
    expect(missingCapability(url, { elicitation: { url: {} } })).toBeNull();
    expect(missingCapability(input({ method: "roots/list" }), { sampling: {} })).toBe("roots");
    // A 2025 URL elicitation carries an elicitationId, which the 2026 shape has none of.
    expect(legacyParams(url).elicitationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(legacyParams(input(elicit))).toEqual(elicit.params);
  });
});
