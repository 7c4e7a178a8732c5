// `node scripts/conformance.mjs --url <mcp url>`: runs the MCP conformance suite's
// server scenarios against one MCP endpoint, once per protocol revision, and holds
// the result to test/conformance/expected-failures.<revision>.json.
//
// Each revision runs as `conformance server --requirements <revision>`: exactly the
// scenarios that revision requires, at its own wire (2025-11-25 sessions, 2026-07-28
// stateless). The CLI also runs "not scored" scenarios (extensions, pending ones) for
// visibility. Those marked `extension` (the Tasks extension's `tasks-*`) are held to here
// as if scored: SMCP implements the extension, so a failing check in one fails the run,
// and none may be listed as an expected failure. The other not-scored ones (pending) are
// reported but never fail the run, as in the CLI itself.
//
// The JSON lists (`[{"scenario", "reason"}]`, a reason is required) are the source of
// truth; they are handed to the CLI's own `--expected-failures` baseline as YAML, and
// the per-check results (`-o`, checks.json per scenario) give the summary and messages.
// Fails on an unexpected failure, or on an expected failure that now passes.
//
// Options: --revision <r> (repeatable; default both), --out <dir> (keep raw results),
// --verbose (stream the CLI's own output).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REVISIONS = ["2025-11-25", "2026-07-28"];
const MAX_MESSAGES = 6; // failing checks shown per scenario
const CLI_PACKAGE = path.join(ROOT, "node_modules", "@modelcontextprotocol", "conformance");

/** Conformance cannot pass by construction in these cases; applied only when the condition holds. */
const IMPLICIT_EXPECTED = [
  {
    scenario: "dns-rebinding-protection",
    when: (url) => !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname),
    reason: "the scenario applies to localhost servers only and fails by design against any other host",
  },
];

/** Not-scored reasons whose scenarios this runner scores anyway: the extensions SMCP implements. */
const HELD_NOT_SCORED_REASONS = new Set(["extension"]);

class UsageError extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      revision: { type: "string", multiple: true },
      out: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("usage: node scripts/conformance.mjs --url <mcp url> [--revision 2025-11-25|2026-07-28]... [--out dir] [--verbose]");
    process.exit(0);
  }
  if (!values.url) throw new UsageError("--url <mcp url> is required");
  let url;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`not a URL: ${values.url}`);
  }
  const revisions = values.revision ?? REVISIONS;
  for (const r of revisions) if (!REVISIONS.includes(r)) throw new UsageError(`unknown revision ${r} (known: ${REVISIONS.join(", ")})`);
  return { url, revisions, out: values.out, verbose: values.verbose };
}

/** The locally installed CLI: its package.json, its entry point, and its bundled requirement sets. */
function localCli() {
  const pkgFile = path.join(CLI_PACKAGE, "package.json");
  if (!existsSync(pkgFile)) throw new UsageError("@modelcontextprotocol/conformance is not installed; run `npx pnpm@10 install`");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin.conformance;
  return { version: pkg.version, entry: path.join(CLI_PACKAGE, bin), dir: realpathSync(CLI_PACKAGE) };
}

/** The requirement set the CLI will run for `revision`: which server scenarios are scored. */
function requirementSet(cli, revision) {
  const file = path.join(cli.dir, "requirements", `${revision}.yaml`);
  if (!existsSync(file)) {
    throw new UsageError(
      `@modelcontextprotocol/conformance ${cli.version} has no requirement set for ${revision} (no --requirements support); ` +
        "pin 0.2.0-alpha.12 or newer in package.json",
    );
  }
  const YAML = createRequire(path.join(cli.dir, "package.json"))("yaml");
  const set = YAML.parse(readFileSync(file, "utf8")) ?? {};
  const notScored = (set.not_scored ?? []).filter((e) => e.leg === "server");
  const held = notScored.filter((e) => HELD_NOT_SCORED_REASONS.has(e.reason)).map((e) => e.scenario);
  return {
    scored: new Set([...(set.server ?? []), ...held]),
    held: new Set(held),
    notScored: new Map(notScored.filter((e) => !held.includes(e.scenario)).map((e) => [e.scenario, e.reason])),
  };
}

/** Reads and checks test/conformance/expected-failures.<revision>.json, plus the implicit entries that apply. */
function expectedFailures(revision, requirements, url) {
  const file = path.join(ROOT, "test", "conformance", `expected-failures.${revision}.json`);
  const rel = path.relative(ROOT, file);
  const entries = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [];
  if (!Array.isArray(entries)) throw new UsageError(`${rel}: expected an array of {"scenario", "reason"}`);
  const expected = new Map();
  for (const entry of entries) {
    const { scenario, reason } = entry ?? {};
    if (typeof scenario !== "string" || typeof reason !== "string" || reason.trim() === "") {
      throw new UsageError(`${rel}: every entry needs a "scenario" and a non-empty "reason": ${JSON.stringify(entry)}`);
    }
    if (expected.has(scenario)) throw new UsageError(`${rel}: ${scenario} is listed twice`);
    if (requirements.held.has(scenario)) throw new UsageError(`${rel}: ${scenario} is an extension scenario SMCP implements; it may not be an expected failure`);
    if (!requirements.scored.has(scenario)) {
      const why = requirements.notScored.has(scenario) ? "is not scored, so it can never fail the run" : "is not a scenario of this revision";
      throw new UsageError(`${rel}: ${scenario} ${why}; remove it`);
    }
    expected.set(scenario, reason);
  }
  for (const rule of IMPLICIT_EXPECTED) {
    if (rule.when(url) && requirements.scored.has(rule.scenario) && !expected.has(rule.scenario)) {
      expected.set(rule.scenario, `${rule.reason} (implicit)`);
    }
  }
  return { expected, file: rel };
}

function runCli(cli, args, logFile, verbose) {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [cli.entry, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(log, { end: false });
      if (verbose) stream.pipe(process.stdout, { end: false });
    }
    child.on("error", reject);
    child.on("close", (code) => log.end(() => resolve(code ?? 1)));
  });
}

/** checks.json of every scenario the CLI wrote (`server-<scenario>-<timestamp>/`), by scenario. */
function readChecks(dir) {
  const stamp = /-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;
  const results = new Map();
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name, "checks.json");
    if (!name.startsWith("server-") || !stamp.test(name) || !existsSync(file)) continue;
    results.set(name.slice("server-".length).replace(stamp, ""), JSON.parse(readFileSync(file, "utf8")));
  }
  return results;
}

const failuresOf = (checks) => checks.filter((c) => c.status === "FAILURE");
const describe = (c) => `${c.id}: ${c.errorMessage ?? c.description ?? "failed"}`.replace(/\s+/g, " ");

async function runRevision(cli, { revision, requirements, expected, file }, opts, workDir) {
  const dir = path.join(workDir, revision);
  mkdirSync(dir, { recursive: true });
  const baseline = path.join(dir, "expected-failures.yaml");
  const listed = [...expected.keys()].map((s) => `\n  - ${JSON.stringify(s)}`).join("");
  writeFileSync(baseline, `server:${listed || " []"}\n`);

  const log = path.join(dir, "cli.log");
  const args = ["server", "--url", opts.url.href, "--requirements", revision, "--expected-failures", baseline, "-o", path.join(dir, "results")];
  const exitCode = await runCli(cli, args, log, opts.verbose);
  const results = existsSync(path.join(dir, "results")) ? readChecks(path.join(dir, "results")) : new Map();

  const report = { revision, file, log, exitCode, passed: [], expectedFailed: [], unexpected: [], stale: [], held: 0, notScored: { passed: 0, failed: [] } };
  for (const scenario of requirements.scored) {
    if (requirements.held.has(scenario)) report.held++;
    const checks = results.get(scenario);
    const failures = checks ? failuresOf(checks) : [{ id: scenario, errorMessage: `no results written (the scenario crashed; see ${log})` }];
    const isExpected = expected.has(scenario);
    if (failures.length === 0) (isExpected ? report.stale : report.passed).push(scenario);
    else if (isExpected) report.expectedFailed.push({ scenario, reason: expected.get(scenario) });
    else report.unexpected.push({ scenario, messages: failures.map(describe) });
  }
  for (const [scenario, reason] of requirements.notScored) {
    const checks = results.get(scenario);
    if (!checks) continue;
    if (failuresOf(checks).length === 0) report.notScored.passed++;
    else report.notScored.failed.push(`${scenario} (${reason})`);
  }
  report.ok = report.unexpected.length === 0 && report.stale.length === 0;
  // The CLI's own `Total:` line counts every check it ran, not-scored scenarios included.
  const totals = existsSync(log) ? readFileSync(log, "utf8").replace(/\x1b\[[0-9;]*m/g, "").match(/^.*Total:.*$/gm) : null;
  report.cliTotal = totals?.at(-1)?.trim();
  // The CLI judges the same baseline (without the held scenarios, which it never fails
  // on); if it disagrees, trust neither and say so.
  const cliOk = report.stale.length === 0 && report.unexpected.every((u) => requirements.held.has(u.scenario));
  report.cliDisagrees = cliOk !== (exitCode === 0);
  return report;
}

function print(report) {
  const r = report;
  const status = r.ok && !r.cliDisagrees ? "ok" : "FAIL";
  const notScored = r.notScored.passed + r.notScored.failed.length;
  console.log(
    `\n${r.revision}: ${status}  ${r.passed.length} passed, ${r.unexpected.length} failed, ` +
      `${r.expectedFailed.length} expected failures, ${r.stale.length} stale` +
      (r.held ? ` (${r.held} of them extension scenarios held to)` : "") +
      (notScored ? `  (not scored: ${r.notScored.passed}/${notScored} passed)` : ""),
  );
  if (r.cliTotal) console.log(`  the CLI's own ${r.cliTotal}`);
  for (const { scenario, messages } of r.unexpected) {
    const unique = [...new Set(messages)];
    console.log(`  FAILED ${scenario}`);
    for (const m of unique.slice(0, MAX_MESSAGES)) console.log(`    - ${m}`);
    if (unique.length > MAX_MESSAGES) console.log(`    ... and ${unique.length - MAX_MESSAGES} more (see ${r.log})`);
  }
  for (const scenario of r.stale) console.log(`  PASSES NOW ${scenario}: remove it from ${r.file}`);
  for (const { scenario, reason } of r.expectedFailed) console.log(`  expected failure ${scenario}: ${reason}`);
  if (r.notScored.failed.length) console.log(`  not scored, failing: ${r.notScored.failed.join(", ")}`);
  if (r.cliDisagrees) console.log(`  the conformance CLI exited ${r.exitCode}, which this summary does not explain; see ${r.log}`);
}

async function main() {
  const opts = options();
  const cli = localCli();
  // Check every list before running anything.
  const plans = opts.revisions.map((revision) => {
    const requirements = requirementSet(cli, revision);
    return { revision, requirements, ...expectedFailures(revision, requirements, opts.url) };
  });
  const workDir = opts.out ? path.resolve(opts.out) : mkdtempSync(path.join(tmpdir(), "smcp-conformance-"));
  console.log(`MCP conformance ${cli.version} against ${opts.url.href} (${opts.revisions.join(", ")})`);

  const reports = [];
  for (const plan of plans) {
    const report = await runRevision(cli, plan, opts, workDir);
    print(report);
    reports.push(report);
  }
  const ok = reports.every((r) => r.ok && !r.cliDisagrees);
  if (ok && !opts.out) rmSync(workDir, { recursive: true, force: true });
  else console.log(`\nraw results: ${workDir}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`conformance: ${error instanceof UsageError ? error.message : error.stack}`);
    process.exit(2);
  },
);
