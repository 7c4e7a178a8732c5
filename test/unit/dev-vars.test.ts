// `pnpm dev` gives .dev.vars an SMCP_SECRETS_KEY (scripts/lib/dev-vars.mjs): a first run's
// file and an older file without one get a fresh key; a file with one keeps it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helpers shared with the scripts
import { ensureSecretsKey } from "../../scripts/lib/dev-vars.mjs";
import { loadKeyring } from "../../packages/runtime/src/secret-box";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function devVars(content?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "smcp-dev-vars-"));
  dirs.push(dir);
  const file = path.join(dir, ".dev.vars");
  if (content !== undefined) writeFileSync(file, content);
  return file;
}
const keyOf = (file: string) => /^SMCP_SECRETS_KEY=(.*)$/m.exec(readFileSync(file, "utf8"))?.[1];

describe("ensureSecretsKey", () => {
  it("setup:dev-vars deployed:secrets — adds a key the platform accepts to a new file and to one without a key, keeping every other line", async () => {
    const fresh = devVars();
    expect(ensureSecretsKey(fresh)).toBe(true);
    expect((await loadKeyring(keyOf(fresh), undefined)).ok).toBe(true);

    const old = devVars("SMCP_ADMIN_TOKEN=abc\nSMCP_DEMO_KEY=smcp_sk_x");
    expect(ensureSecretsKey(old)).toBe(true);
    const lines = readFileSync(old, "utf8").split("\n");
    expect(lines.slice(0, 2)).toEqual(["SMCP_ADMIN_TOKEN=abc", "SMCP_DEMO_KEY=smcp_sk_x"]);
    expect(lines[2]).toMatch(/^SMCP_SECRETS_KEY=[A-Za-z0-9_-]{43}$/);
    expect(keyOf(old)).not.toBe(keyOf(fresh));
  });

  it("setup:dev-vars deployed:secrets — a file with a key keeps it (the local secrets are sealed with it); an empty value is replaced", () => {
    const kept = devVars("SMCP_ADMIN_TOKEN=abc\nSMCP_SECRETS_KEY=mine\n");
    expect(ensureSecretsKey(kept)).toBe(false);
    expect(readFileSync(kept, "utf8")).toBe("SMCP_ADMIN_TOKEN=abc\nSMCP_SECRETS_KEY=mine\n");
    const empty = devVars("SMCP_SECRETS_KEY=\n");
    expect(ensureSecretsKey(empty)).toBe(true);
    expect(readFileSync(empty, "utf8")).toMatch(/^SMCP_SECRETS_KEY=\nSMCP_SECRETS_KEY=[A-Za-z0-9_-]{43}\n$/);
  });
});
