// The authorization conformance runner's scoring (scripts/lib/authorization-checks.mjs):
// the CLI exits 0 on a skipped or warning check, the runner must not pass them.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readAuthorizationChecks, scoreAuthorization } from "../../scripts/lib/authorization-checks.mjs";

const check = (id: string, status: string, errorMessage?: string) => ({ id, name: id, description: id, status, timestamp: "2026-12-02T00:00:00.000Z", errorMessage });
const metadataOk = [check("authorization-server-metadata", "SUCCESS"), check("authorization-server-metadata-cimd", "SUCCESS")];
const results = (grant: unknown[]) =>
  new Map<string, unknown[]>([
    ["authorization-server-metadata-endpoint", metadataOk],
    ["authorization-code-grant", grant],
  ]);

describe("authorization conformance scoring", () => {
  it("auth:conformance — every check SUCCESS (or INFO) passes both scenarios", () => {
    expect(scoreAuthorization(results([check("authorization-code-grant", "SUCCESS"), check("note", "INFO")]))).toEqual({ passed: 2, failed: 0, checks: 4, problems: [] });
  });

  it("auth:conformance — a skipped code grant (no --client-id), a warning and a failure each fail their scenario, with the check named", () => {
    const skipped = scoreAuthorization(results([check("authorization-code-grant", "SKIPPED", "authorization-code-grant requires --client-id")]));
    expect(skipped.failed).toBe(1);
    expect(skipped.problems).toEqual(["authorization-code-grant authorization-code-grant SKIPPED: authorization-code-grant requires --client-id"]);

    const warned = scoreAuthorization(
      new Map<string, unknown[]>([
        ["authorization-server-metadata-endpoint", [metadataOk[0], check("authorization-server-metadata-cimd", "WARNING", "no client_id_metadata_document_supported")]],
        ["authorization-code-grant", [check("authorization-code-grant", "SUCCESS")]],
      ]),
    );
    expect(warned).toMatchObject({ passed: 1, failed: 1 });
    expect(warned.problems[0]).toContain("authorization-server-metadata-cimd WARNING");

    expect(scoreAuthorization(results([check("authorization-code-grant", "FAILURE", "Invalid Cache-Control: (missing)")])).problems).toEqual([
      "authorization-code-grant authorization-code-grant FAILURE: Invalid Cache-Control: (missing)",
    ]);
  });

  it("auth:conformance — a scenario that wrote no checks (it crashed, or the run was cut) fails", () => {
    const score = scoreAuthorization(new Map([["authorization-server-metadata-endpoint", metadataOk]]));
    expect(score).toMatchObject({ passed: 1, failed: 1, problems: ["authorization-code-grant: no results written"] });
  });

  it("auth:conformance — results are read from the CLI's -o layout, one timestamped directory per scenario", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "smcp-authz-checks-"));
    try {
      for (const [scenario, checks] of results([check("authorization-code-grant", "SUCCESS")])) {
        const sub = path.join(dir, `authorization-server-${scenario}-2026-12-02T02-49-18-869Z`);
        mkdirSync(sub);
        writeFileSync(path.join(sub, "checks.json"), JSON.stringify(checks));
      }
      mkdirSync(path.join(dir, "server-tools-list-2026-12-02T02-49-18-869Z"));
      const read = readAuthorizationChecks(dir);
      expect([...read.keys()].sort()).toEqual(["authorization-code-grant", "authorization-server-metadata-endpoint"]);
      expect(scoreAuthorization(read).passed).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
