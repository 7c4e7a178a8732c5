// `pnpm test`: every test, in the order a failure is cheapest to find.
//  1. typecheck            tsc over the workspace
//  2. unit                 vitest in Node: pure modules of packages/* and the Worker
//  3. workerd integration  vitest inside workerd (real Durable Objects and SQLite)
//  4. end to end           wrangler dev + the official SDK client, both lanes
//  5. deployment tier      test/deployed/ against a local wrangler dev (limit-dependent tests skipped, with reasons)
//  6. conformance          @modelcontextprotocol/conformance, 2025-11-25 and 2026-07-28
//  7. authorization        @modelcontextprotocol/conformance authorization: both scenarios, a
//                          metadata-document client id (HTTPS on loopback) and a registered one
// Prints each step as it starts and a summary with durations and test counts at the end
// (vitest's JSON report; the conformance runner's per-revision line).
// A step fails too when its log holds an uncaught-exception line that
// scripts/lib/uncaught-log.mjs does not explain. The tests' wrangler dev instances pass
// such lines on, but wrangler shows them only at its debug level: the conformance steps
// start theirs at debug (the platform under the most concurrent traffic, and where a
// cross-request I/O leak once hid); run with SMCP_WRANGLER_LOG_LEVEL=debug to check the
// e2e tiers too.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, startWrangler, stopWrangler } from "./lib/wrangler.mjs";
import { adminClient, provisionTenant } from "./lib/admin-client.mjs";
import { makeLoopbackCertificates } from "./lib/loopback-tls.mjs";
import { EXPLAINED, UncaughtLines } from "./lib/uncaught-log.mjs";

/** The conformance platforms' wrangler log level: debug, where workerd's uncaught-exception reports show. */
const CONFORMANCE_LOG_LEVEL = process.env.SMCP_WRANGLER_LOG_LEVEL ?? "debug";

const bin = (name) => path.join(ROOT, "node_modules/.bin", name);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" };

const reports = mkdtempSync(path.join(tmpdir(), "smcp-test-reports-"));

/** The uncaught-exception lines of the step that is running (its log, stdout and stderr). */
let uncaught = new UncaughtLines();
// Our own stderr is part of the log too: the wrangler dev instances the conformance steps
// start here pass their uncaught-exception lines on to it (scripts/lib/wrangler.mjs).
const writeStderr = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  uncaught.push(String(chunk));
  return writeStderr(chunk, ...rest);
};

/**
 * Runs a command; its output passes through to ours and is scanned for uncaught-exception
 * lines. `onStdout`, when given, also sees stdout; `extraEnv` is added to its environment.
 */
function run(command, args, onStdout, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...env, ...extraEnv }, stdio: ["inherit", "pipe", "pipe"] });
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      uncaught.push(String(chunk));
      onStdout?.(String(chunk));
    });
    // Scanned by the hook on our own stderr below.
    child.stderr.on("data", (chunk) => process.stderr.write(chunk));
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

/**
 * One vitest tier; its test counts go into `counts` from vitest's JSON report.
 * `reporter` is what people read: `verbose` where every skipped test's name (its reason) must show.
 */
async function vitest(name, config, counts, reporter = "default") {
  const report = path.join(reports, `${name}.json`);
  const code = await run(bin("vitest"), ["run", "--config", config, `--reporter=${reporter}`, "--reporter=json", `--outputFile.json=${report}`]);
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"));
    Object.assign(counts, { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests });
  }
  return code;
}

async function conformance(counts) {
  const state = mkdtempSync(path.join(tmpdir(), "smcp-conformance-"));
  const token = "conformance-admin-token";
  const { child, url } = await startWrangler({
    persistTo: state,
    logLevel: CONFORMANCE_LOG_LEVEL,
    vars: { SMCP_ADMIN_TOKEN: token, SMCP_ALLOW_PUBLIC_TENANTS: "true", SMCP_SSE_RETRY_MS: "500" },
  });
  try {
    await provisionTenant(adminClient(url, token), "conformance", { auth: "none", servers: ["everything"] });
    let out = "";
    const code = await run(process.execPath, [path.join(ROOT, "scripts/conformance.mjs"), "--url", `${url}/mcp/conformance/everything`], (t) => (out += t));
    // One line per revision: "2025-11-25: ok  30 passed, 0 failed, ...".
    countScenarios(out, counts);
    return code;
  } finally {
    await stopWrangler(child);
    rmSync(state, { recursive: true, force: true });
  }
}

/** Adds up the runner lines "<name>: <ok|FAIL>  N passed, M failed" (scenarios, not checks). */
function countScenarios(out, counts) {
  counts.unit = "scenarios";
  for (const m of out.matchAll(/^\S+: \S+\s+(\d+) passed, (\d+) failed/gm)) {
    counts.passed = (counts.passed ?? 0) + Number(m[1]);
    counts.failed = (counts.failed ?? 0) + Number(m[2]);
  }
}

/**
 * SMCP's authorization server under the suite's own checks. Its own `wrangler dev`: the
 * metadata document is served over HTTPS on loopback, so this platform trusts a CA made
 * for the run and may fetch loopback (SMCP_ALLOW_LOOPBACK_EGRESS), which the server
 * scenarios' platform does not need.
 */
async function conformanceAuthorization(counts) {
  const state = mkdtempSync(path.join(tmpdir(), "smcp-conformance-auth-"));
  const token = "conformance-admin-token";
  const tls = makeLoopbackCertificates(state);
  const { child, url } = await startWrangler({
    persistTo: path.join(state, "state"),
    logLevel: CONFORMANCE_LOG_LEVEL,
    env: { NODE_EXTRA_CA_CERTS: tls.ca },
    vars: { SMCP_ADMIN_TOKEN: token, SMCP_ALLOW_LOOPBACK_EGRESS: "true" },
  });
  try {
    const { key } = await provisionTenant(adminClient(url, token), "conformance-auth", { servers: ["everything"] });
    let out = "";
    const args = [
      path.join(ROOT, "scripts/conformance-authorization.mjs"),
      "--url", url,
      "--resource", `${url}/mcp/conformance-auth/everything`,
      "--tls-cert", path.join(state, "server.pem"),
      "--tls-key", path.join(state, "server.key"),
    ];
    const code = await run(process.execPath, args, (t) => (out += t), { SMCP_CONFORMANCE_KEY: key });
    countScenarios(out, counts);
    return code;
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
  ["unit (Node)", (counts) => vitest("unit", "test/unit/vitest.config.ts", counts)],
  ["workerd integration", (counts) => vitest("workerd", "workers/smcp/vitest.config.ts", counts)],
  ["end to end (wrangler dev + SDK client)", (counts) => vitest("e2e", "test/vitest.config.ts", counts)],
  ["deployment tier (local wrangler dev)", (counts) => vitest("deployed", "test/deployed/vitest.config.ts", counts, "verbose")],
  ["MCP conformance", conformance],
  ["MCP conformance: authorization", conformanceAuthorization],
];

const only = process.argv.slice(2);
const results = [];
const started = Date.now();
for (const [name, step] of steps) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue;
  console.log(`\n━━ ${name} ━━`);
  const t0 = Date.now();
  let code;
  const counts = {};
  uncaught = new UncaughtLines();
  try {
    code = await step(counts);
  } catch (err) {
    console.error(err);
    code = 1;
  }
  uncaught.end();
  // A passing tier's log holds no uncaught exception but the explained ones (scripts/lib/uncaught-log.mjs).
  const unexplained = uncaught.unexplained();
  if (unexplained.length) {
    console.error(`\n${name}: ${unexplained.length} uncaught-exception line(s) in the log that nothing explains (fix the leak, or explain it in scripts/lib/uncaught-log.mjs):\n${unexplained.map((l) => `  ${l}`).join("\n")}`);
    code ||= 1;
  }
  results.push({ name, ok: code === 0, seconds: (Date.now() - t0) / 1000, counts, uncaught: uncaught.lines.length });
}
rmSync(reports, { recursive: true, force: true });

/** "99 tests: 97 passed, 2 skipped" from a step's counts; empty for steps that count nothing (typecheck). */
function countsText({ passed, failed = 0, skipped = 0, unit = "tests" }) {
  if (passed === undefined) return "";
  const parts = [`${passed} passed`, failed ? `${failed} failed` : "", skipped ? `${skipped} skipped` : ""].filter(Boolean);
  return `${passed + failed + skipped} ${unit}: ${parts.join(", ")}`;
}

console.log("\n━━ summary ━━");
for (const r of results) {
  const log = r.uncaught ? `, ${r.uncaught} uncaught-exception line(s) in the log` : "";
  console.log(`${r.ok ? "pass" : "FAIL"}  ${r.name.padEnd(42)} ${r.seconds.toFixed(1).padStart(6)} s  ${countsText(r.counts)}${log}`.trimEnd());
}
if (results.some((r) => r.uncaught)) console.log(`explained uncaught-exception lines:\n${EXPLAINED.map((e) => `  ${e.pattern.source}: ${e.why}`).join("\n")}`);
console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
