/**
 * `pnpm run deploy` must work on a real account (docs/deploy.md). Without an account,
 * `wrangler deploy --dry-run` is the closest check: it bundles the Worker exactly as a
 * deploy would and validates the config, bindings and Durable Object migrations.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const outdir = mkdtempSync(path.join(tmpdir(), "smcp-dry-run-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("deploy", () => {
  it("setup:deploy — the real wrangler.jsonc bundles and names every binding a deploy needs", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir, "--config", path.join(ROOT, "wrangler.jsonc")],
      { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } },
    );
    expect(stdout).toContain("--dry-run: exiting now.");
    for (const binding of ["env.SESSION (SessionDO)", "env.TENANT (TenantDO)", "env.DIRECTORY (DirectoryDO)", "env.LISTEN_BUS (ListenBusDO)", "env.OAUTH_KV", "env.LOADER"]) {
      expect(stdout).toContain(binding);
    }
    // The bundle is the Worker itself, with the Durable Object classes it exports.
    const bundle = readFileSync(path.join(outdir, "index.js"), "utf8");
    expect(statSync(path.join(outdir, "index.js")).size).toBeGreaterThan(100_000);
    for (const cls of ["SessionDO", "TenantDO", "DirectoryDO"]) expect(bundle).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${cls}\\b`));
  });
});
