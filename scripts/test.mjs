// `pnpm test`: every test, in the order a failure is cheapest to find.
//  1. typecheck            tsc over the workspace
//  2. workerd integration  vitest inside workerd (real Durable Objects and SQLite)
//  3. end to end           wrangler dev + the official SDK client, both lanes
//  4. conformance          @modelcontextprotocol/conformance, 2025-11-25 and 2026-07-28
// Prints each step as it starts and a summary with durations at the end.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, startWrangler, stopWrangler } from "./lib/wrangler.mjs";
import { adminClient, provisionTenant } from "./lib/admin-client.mjs";

const bin = (name) => path.join(ROOT, "node_modules/.bin", name);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" };

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: "inherit" });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

async function conformance() {
  const state = mkdtempSync(path.join(tmpdir(), "smcp-conformance-"));
  const token = "conformance-admin-token";
  const { child, url } = await startWrangler({
    persistTo: state,
    vars: { SMCP_ADMIN_TOKEN: token, SMCP_ALLOW_PUBLIC_TENANTS: "true", SMCP_SSE_RETRY_MS: "500" },
  });
  try {
    await provisionTenant(adminClient(url, token), "conformance", { auth: "none", servers: ["everything"] });
    return await run(process.execPath, [path.join(ROOT, "scripts/conformance.mjs"), "--url", `${url}/mcp/conformance/everything`]);
  } finally {
    await stopWrangler(child);
    rmSync(state, { recursive: true, force: true });
  }
}

const steps = [
  ["typecheck", async () => {
    const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc");
    return (await run(process.execPath, [tsc, "-p", "tsconfig.json"])) || run(process.execPath, [tsc, "-p", "packages/cli"]);
  }],
  ["workerd integration", () => run(bin("vitest"), ["run", "--config", "workers/smcp/vitest.config.ts"])],
  ["end to end (wrangler dev + SDK client)", () => run(bin("vitest"), ["run", "--config", "test/vitest.config.ts"])],
  ["MCP conformance", conformance],
];

const only = process.argv.slice(2);
const results = [];
const started = Date.now();
for (const [name, step] of steps) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue;
  console.log(`\n━━ ${name} ━━`);
  const t0 = Date.now();
  let code;
  try {
    code = await step();
  } catch (err) {
    console.error(err);
    code = 1;
  }
  results.push({ name, ok: code === 0, seconds: (Date.now() - t0) / 1000 });
}

console.log("\n━━ summary ━━");
for (const r of results) console.log(`${r.ok ? "pass" : "FAIL"}  ${r.name.padEnd(42)} ${r.seconds.toFixed(1)} s`);
console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
