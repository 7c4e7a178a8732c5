// `smcp upstream ...` (packages/cli/src/commands/upstream.mjs): its command lines, the
// `--header NAME=VALUE` pairs, and how an upstream's configuration and health read.
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { parseCommandLine } from "../../packages/cli/src/args.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { commands } from "../../packages/cli/src/commands/index.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { headersOf, renderUpstream } from "../../packages/cli/src/commands/upstream.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { UsageError } from "../../packages/cli/src/errors.mjs";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const parse = (line: string) => parseCommandLine(line.split(" "), commands);

describe("smcp upstream", () => {
  it("upstream:health-admin admin:cli — set takes the URL and repeated --header NAME=VALUE, a value may hold = and ${secret:NAME}", () => {
    const parsed = parse("upstream set acme remote https://mcp.example.com/mcp --header X-Team=blue --header Authorization=Bearer=${secret:TOKEN}");
    expect(parsed.args).toEqual({ tenant: "acme", server: "remote", url: "https://mcp.example.com/mcp" });
    expect(headersOf(parsed.opts.header)).toEqual({ "X-Team": "blue", Authorization: "Bearer=${secret:TOKEN}" });
    expect(headersOf(undefined)).toEqual({});
    for (const bad of ["novalue", "=x"]) expect(() => headersOf([bad]), bad).toThrow(UsageError);
    for (const line of ["upstream show acme remote", "upstream probe acme remote", "upstream rm acme remote"]) {
      expect(parse(line).args, line).toEqual({ tenant: "acme", server: "remote" });
    }
  });

  it("upstream:health-admin admin:cli — show prints reachability, latency, tools, the last error and both check times", () => {
    const base = { server: "remote", url: "https://mcp.example.com/mcp", headers: { "x-key": "${secret:KEY}" }, secrets: ["KEY"] };
    const healthy = renderUpstream(
      {
        ...base,
        health: { state: "reachable", reachable: true, latencyMs: 42, tools: 7, protocolVersion: "2025-11-25", lastError: null, lastErrorAt: null, checkedAt: NOW - 60_000, lastReachableAt: NOW - 60_000, nextCheckAt: NOW + 240_000, consecutiveFailures: 0 },
      },
      NOW,
    );
    expect(healthy).toContain("fronts https://mcp.example.com/mcp");
    expect(healthy).toMatch(/health\s+reachable: 7 tools, protocol 2025-11-25/);
    expect(healthy).toMatch(/latency\s+42 ms/);
    expect(healthy).toMatch(/last check\s+2026-12-02 11:59:00Z \(1m ago\)/);
    expect(healthy).toMatch(/next check\s+2026-12-02 12:04:00Z \(in 4m\)/);
    expect(healthy).not.toContain("last error");
    const down = renderUpstream(
      {
        ...base,
        health: { state: "unreachable", reachable: false, latencyMs: 3, tools: 7, protocolVersion: null, lastError: "Upstream remote (mcp.example.com) answered initialize with HTTP 503", lastErrorAt: NOW - 1_000, checkedAt: NOW - 1_000, lastReachableAt: null, nextCheckAt: NOW + 600_000, consecutiveFailures: 2 },
      },
      NOW,
    );
    expect(down).toMatch(/health\s+UNREACHABLE \(2 failures in a row\)/);
    expect(down).toMatch(/last error\s+Upstream remote \(mcp\.example\.com\) answered initialize with HTTP 503 \(1s ago\)/);
    expect(renderUpstream({ ...base, health: { state: "unchecked", reachable: null, latencyMs: null, tools: null, protocolVersion: null, lastError: null, lastErrorAt: null, checkedAt: null, lastReachableAt: null, nextCheckAt: NOW, consecutiveFailures: 0 } }, NOW)).toMatch(
      /health\s+not probed yet[\s\S]*last check\s+never/,
    );
  });
});
