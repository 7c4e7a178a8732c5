// What the session lane hands the session object of a client's request (mcp/session-lane.ts).
import { describe, expect, it } from "vitest";
import { forwardedRequest } from "../../workers/smcp/src/mcp/session-lane";

const TRACEPARENT = "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01";

describe("forwardedRequest", () => {
  it("auth:keys-hashed auth:principal — the session object gets no credential: Authorization and Cookie stay in the Worker, the MCP headers go on", () => {
    const request = new Request("https://smcp.test/mcp/acme/notes", {
      method: "POST",
      headers: {
        Authorization: "Bearer smcp_live_secret",
        Cookie: "session=abc",
        "Content-Length": "42",
        "Mcp-Session-Id": "s-1",
        "MCP-Protocol-Version": "2025-11-25",
        Accept: "application/json, text/event-stream",
        "Last-Event-ID": "7",
      },
    });
    const forwarded = forwardedRequest(request, TRACEPARENT);
    expect(forwarded.method).toBe("POST");
    expect(forwarded.url).toBe(request.url);
    expect([...forwarded.headers].sort()).toEqual(
      [
        ["accept", "application/json, text/event-stream"],
        ["last-event-id", "7"],
        ["mcp-protocol-version", "2025-11-25"],
        ["mcp-session-id", "s-1"],
        ["traceparent", TRACEPARENT],
      ].sort(),
    );
    // The client's own request is left as it came.
    expect(request.headers.get("authorization")).toBe("Bearer smcp_live_secret");
  });
});
