/** The `pnpm dev` console: one readable line per request, wrangler's duplicates dropped. */
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper of the dev script
import { formatDevLine } from "../../scripts/lib/dev-console.mjs";

describe("dev console", () => {
  it("setup:dev-vars — a request's JSON log line becomes time, method, tenant/server, call, status and duration", () => {
    const line = JSON.stringify({
      ts: "2026-12-01T20:41:30.934Z",
      level: "info",
      msg: "request",
      method: "POST",
      tenant: "demo",
      server: "notes",
      session: "UNnN8ZTsCBwqi7OWzjjPxQrihQ0lbGye",
      lane: "session",
      rpcMethod: "tools/call",
      tool: "add_note",
      status: 200,
      durationMs: 17,
      traceId: "abc",
    });
    expect(formatDevLine(line)).toBe("20:41:30  POST  /mcp/demo/notes  tools/call add_note  200  17 ms  session UNnN8ZTs…");
    expect(formatDevLine(JSON.stringify({ ts: "2026-12-01T20:41:31.000Z", level: "info", msg: "request", method: "GET", path: "/healthz", status: 200, durationMs: 1 }))).toBe(
      "20:41:31  GET  /healthz  200  1 ms",
    );
  });

  it("setup:dev-vars — wrangler's own request lines are dropped; other events are one line with their fields; anything else passes", () => {
    expect(formatDevLine("[wrangler:info] GET /healthz 200 OK (8ms)")).toBeNull();
    expect(formatDevLine("[wrangler:info] Ready on http://localhost:8787")).toBe("[wrangler:info] Ready on http://localhost:8787");
    expect(formatDevLine(JSON.stringify({ ts: "2026-12-01T20:41:32.000Z", level: "error", msg: "session alarm failed", tenant: "demo", retryCount: 2 }))).toBe(
      "20:41:32  ERROR  session alarm failed  tenant=demo retryCount=2",
    );
    expect(formatDevLine("{not json")).toBe("{not json");
    expect(formatDevLine("plain text")).toBe("plain text");
  });

  it("setup:dev-vars platform:clean-log — a tenant tool's failure, boxed by wrangler as a warning, is one line; the blank lines after it are dropped", () => {
    const boxed =
      '\u001b[33m▲ \u001b[43;33m[\u001b[43;30mWARNING\u001b[43;33m]\u001b[0m \u001b[1m{"ts":"2026-12-01T21:21:43.350Z","level":"warn","msg":"deployed server call failed","tenant":"acme","server":"svc","version":1,"kind":"tenant","message":"tool boom: tenant says no"}\u001b[0m';
    expect(formatDevLine(boxed)).toBe("21:21:43  WARN  deployed server call failed  tenant=acme server=svc version=1 kind=tenant message=tool boom: tenant says no");
    expect(formatDevLine("")).toBeNull();
    expect(formatDevLine("\u001b[0m  ")).toBeNull();
    // A box around something that is not one of the Worker's events stays as wrangler printed it.
    expect(formatDevLine("✘ [ERROR] something else")).toBe("✘ [ERROR] something else");
  });
});
