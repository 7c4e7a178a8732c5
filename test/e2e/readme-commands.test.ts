/**
 * Every copy-paste command line of README.md, docs/*.md and the `pnpm dev` banner, run
 * in bash as a reader runs it, against `npx pnpm@10 dev` itself started in a fresh copy
 * of the tree (see doc-commands/dev-platform.ts). A line passes when it exits 0, every
 * curl call in it answers 2xx (or the status its comment shows), and the JSON it prints
 * has the shape its trailing comment shows (`# 201 {"id":"acme",…}`).
 *
 * What is not run as written is still checked, and the reason is printed:
 * `claude mcp add` (Claude Code is not installed): its arguments are parsed as Claude
 * Code's CLI does, and the URL and header are tried with an MCP `initialize`;
 * `wrangler login` / `secret put` / `pnpm run deploy` need a Cloudflare account: each
 * runs with `--help`; `install` and `test` are what CI's .ci/run runs. Lines for a
 * hosted URL run against the local platform, their `<placeholders>` filled in.
 * README blocks each run in a fresh shell (each sets what it uses); a docs/ page runs in
 * one shell, top to bottom, as its text says, except its account lines (`--help`), which
 * run beside it, once per command. Pages and README's blocks run side by side (their
 * tenants differ). Most of the time is process starts: each `npx pnpm@10` line costs
 * about 2 s of CPU in npx and pnpm before SMCP's CLI runs.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevPlatform, REPO, readerEnv } from "./doc-commands/dev-platform";
import { blocksOf, commandOf, documentsOf, expectationOf, type DocBlock, type DocLine } from "./doc-commands/extract";
import { mismatch, parseShape } from "./doc-commands/shape";
import { Shell, curlHome, type LineResult } from "./doc-commands/shell";

/** The port the docs write; the platform runs on a free port and the lines with it substituted. */
const DOCS_PORT = 8787;
/** npx fetches the pinned Inspector (about 110 MB) from the registry on a machine's first run. */
const DOC_TEST_TIMEOUT = 240_000;

const platform = new DevPlatform();
const curlrc = curlHome();
const shim = mkdtempSync(path.join(tmpdir(), "smcp-claude-shim-"));
const report: string[] = [];
/** How long each line took, for the slowest ones in the report (never asserted: timings under load are noise). */
const timings: { where: string; ms: number }[] = [];

beforeAll(async () => {
  // Claude Code is not installed here: a `claude` on PATH that records its arguments.
  writeFileSync(path.join(shim, "claude"), `#!/bin/sh\nprintf '%s\\0' "$@" > "$CLAUDE_ARGV"\n`);
  chmodSync(path.join(shim, "claude"), 0o755);
  await platform.start();
}, 120_000);
afterAll(async () => {
  console.log(`command lines of the docs, how each was checked:\n${report.join("\n")}`);
  const slowest = timings.sort((a, b) => b.ms - a.ms).slice(0, 12);
  console.log(`slowest lines:\n${slowest.map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(5)} s  ${t.where}`).join("\n")}`);
  await platform.dispose();
  rmSync(curlrc, { recursive: true, force: true });
  rmSync(shim, { recursive: true, force: true });
});

let shells = 0;

/**
 * A reader's terminal in the platform's directory. SMCP_URL is the test's port: the CLI's
 * default is the docs' http://localhost:8787 (checked below), and the `npx pnpm@10 smcp`
 * lines of the local pages rely on that default. docs/deploy.md sets it itself (the hosted URL).
 */
function newShell(file?: string): Shell {
  const env = readerEnv({ CURL_HOME: curlrc, CLAUDE_ARGV: path.join(shim, `argv-${++shells}`) });
  return new Shell(platform.dir, {
    ...env,
    // First on PATH: a real Claude Code, where installed, must not get the docs' servers added to its config.
    PATH: `${shim}${path.delimiter}${env.PATH}`,
    ...(file === "docs/deploy.md" ? {} : { SMCP_URL: platform.base }),
  });
}

/** The line with the docs' port and the hosted-URL placeholders replaced by the local platform's. */
function localized(text: string): string {
  return text
    .replaceAll(`localhost:${DOCS_PORT}`, `localhost:${platform.port}`)
    .replaceAll("https://smcp.<your-subdomain>.workers.dev", platform.base)
    .replaceAll("<the value you put>", platform.devVar("SMCP_ADMIN_TOKEN"));
}

const PLACEHOLDER = /<[a-z][a-z -]*>|…|\{[a-z]+\}/;

function explain(line: DocLine, result: LineResult): string {
  return `${line.where}: ${line.text}\nexit ${result.code}, curl statuses ${JSON.stringify(result.statuses)}\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr.slice(0, 2000)}`;
}

/** Exit 0, every curl call 2xx or the status the comment shows last, the JSON shape the comment shows. */
function checkAnswer(line: DocLine, result: LineResult): void {
  expect(result.code, explain(line, result)).toBe(0);
  const { status, shape } = expectationOf(line.comment);
  const statuses = [...result.statuses];
  if (status !== undefined) expect(statuses.pop(), explain(line, result)).toBe(status);
  for (const s of statuses) expect(s >= 200 && s < 300, `a curl call answered ${s}\n${explain(line, result)}`).toBe(true);
  if (shape) {
    let json: unknown;
    try {
      json = JSON.parse(result.stdout.trim());
    } catch {
      throw new Error(`the comment shows JSON but the line printed something else\n${explain(line, result)}`);
    }
    expect(mismatch(parseShape(shape), json), explain(line, result)).toBeNull();
  }
}

/** Claude Code's `mcp add` grammar (its options and the two positionals of an HTTP server). */
function parseClaudeAdd(argv: string[]): { name: string; url: string; transport?: string; headers: string[] } {
  const [mcp, add, ...rest] = argv;
  if (mcp !== "mcp" || add !== "add") throw new Error(`not "claude mcp add": ${argv.join(" ")}`);
  const withValue = new Set(["--transport", "-t", "--header", "-H", "--scope", "-s", "--env", "-e", "--client-id", "--callback-port"]);
  const positionals: string[] = [];
  const headers: string[] = [];
  let transport: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("-")) positionals.push(arg);
    else if (!withValue.has(arg)) throw new Error(`claude mcp add has no option ${arg}`);
    else {
      const value = rest[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      if (arg === "--transport" || arg === "-t") transport = value;
      if (arg === "--header" || arg === "-H") headers.push(value);
    }
  }
  if (positionals.length !== 2) throw new Error(`claude mcp add --transport http takes <name> <url>, got ${JSON.stringify(positionals)}`);
  return { name: positionals[0]!, url: positionals[1]!, transport, headers };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "readme-commands", version: "1.0.0" } },
});

/** Runs a `claude mcp add` line with the shim on PATH: the arguments Claude Code would get. */
async function claudeArgv(line: DocLine, shell: Shell): Promise<string[]> {
  const result = await shell.run(localized(line.text));
  expect(result.code, explain(line, result)).toBe(0);
  const argvFile = (await shell.run(`printf '%s' "$CLAUDE_ARGV"`)).stdout;
  const argv = readFileSync(argvFile, "utf8").split("\0").slice(0, -1);
  unlinkSync(argvFile);
  return argv;
}

/** What Claude Code would do with the line: with the header an MCP session opens; without it, the OAuth discovery answers. */
async function checkClaudeLine(line: DocLine, shell: Shell): Promise<void> {
  const add = parseClaudeAdd(await claudeArgv(line, shell));
  expect(add.transport, line.where).toBe("http");
  expect(add.name).toMatch(/^[A-Za-z0-9_-]+$/);
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
  for (const h of add.headers) {
    const m = /^([A-Za-z-]+):\s*(.+)$/.exec(h);
    if (!m) throw new Error(`${line.where}: --header ${JSON.stringify(h)} is not "Name: value"`);
    headers[m[1]!] = m[2]!;
  }
  const res = await fetch(add.url, { method: "POST", headers, body: INITIALIZE });
  await res.body?.cancel();
  if (add.headers.length) {
    expect(res.status, `${line.where}: initialize with the line's URL and header`).toBe(200);
    expect(res.headers.get("mcp-session-id")).toMatch(/^[A-Za-z0-9_-]{32}$/);
  } else {
    expect(res.status, `${line.where}: without a header the client must be sent to OAuth`).toBe(401);
    const metadata = /resource_metadata="([^"]+)"/.exec(res.headers.get("www-authenticate") ?? "")?.[1];
    expect(metadata, `${line.where}: WWW-Authenticate names the resource metadata`).toBeTruthy();
    const meta = (await (await fetch(metadata!)).json()) as { resource: string };
    expect(meta.resource).toBe(add.url);
  }
  report.push(`  ${line.where}  claude (not installed): arguments parsed, ${add.headers.length ? "URL and header open an MCP session" : "URL leads to OAuth discovery"}`);
}

/** `<command> --help` of each account command, run once (see checkNotRun). */
const helpOf = new Map<string, Promise<LineResult>>();

const ci = () => readFileSync(path.join(REPO, ".ci/run"), "utf8").split("\n");

/** Lines not run as written: why, and what is checked instead. */
async function checkNotRun(line: DocLine, shell: Shell): Promise<boolean> {
  const cmd = commandOf(line);
  if (/^npx pnpm@10 install && npx pnpm@10 dev$/.test(cmd)) {
    expect(ci()).toContain("npx pnpm@10 install");
    report.push(`  ${line.where}  the platform under test: "npx pnpm@10 dev" started by this test (PORT=${platform.port}); install is .ci/run's first line`);
    return true;
  }
  if (/^npx pnpm@10 (install|test)( && npx pnpm@10 test)?$/.test(cmd)) {
    for (const part of cmd.split(" && ")) expect(ci(), `${line.where}: .ci/run runs ${part}`).toContain(part);
    report.push(`  ${line.where}  not run: it is what runs this test; .ci/run runs exactly ${JSON.stringify(cmd)}`);
    return true;
  }
  const account = ACCOUNT_LINE.exec(cmd);
  if (account) {
    const named = account[1] ? `wrangler ${account[1]}` : "wrangler deploy";
    // The help of `secret put NAME --help` does not depend on NAME or on what is piped in:
    // one run per command the pages use (each starts wrangler), the same check for every line.
    const command = cmd.slice(cmd.indexOf("npx pnpm@10")).replace(/^(npx pnpm@10 (?:exec wrangler (?:login|secret put|secret delete)|run deploy)).*$/, "$1");
    let help = helpOf.get(command);
    if (!help) helpOf.set(command, (help = shell.run(`${command} --help`)));
    const result = await help;
    expect(result.code, explain(line, result)).toBe(0);
    expect(result.stdout + result.stderr, explain(line, result)).toContain(named);
    report.push(`  ${line.where}  needs a Cloudflare account: ${command} --help is ${named}'s`);
    return true;
  }
  if (/SMCP_REMOTE_URL=.*test:deployed/.test(cmd)) {
    const scripts = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).scripts;
    expect(scripts["test:deployed"]).toBeTruthy();
    const target = readFileSync(path.join(REPO, "test/deployed/target.ts"), "utf8");
    for (const [, name] of cmd.matchAll(/\b(SMCP_[A-Z_]+)=/g)) expect(target, `test/deployed reads ${name}`).toContain(`process.env.${name}`);
    report.push(`  ${line.where}  needs a real deployment (its limit tests fail by design on local workerd): the script exists and reads ${[...cmd.matchAll(/\b(SMCP_[A-Z_]+)=/g)].map((m) => m[1]).join(", ")}`);
    return true;
  }
  return false;
}

async function runLine(line: DocLine, shell: Shell): Promise<void> {
  if (await checkNotRun(line, shell)) return;
  const text = localized(line.text);
  const unfilled = PLACEHOLDER.exec(commandOf({ ...line, text }));
  if (unfilled) throw new Error(`${line.where}: ${JSON.stringify(unfilled[0])} is a placeholder a reader cannot paste; set a variable in the block instead`);
  if (/^claude mcp add\b/.test(commandOf(line))) return checkClaudeLine(line, shell);
  if (/ --follow\b/.test(commandOf(line))) {
    // Runs until Ctrl+C: it must print the log so far, say it waits, and stop on Ctrl+C.
    const job = await shell.start(text);
    const deadline = Date.now() + 30_000;
    while (!shell.output(job.n).stderr.includes("waiting for new events") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const result = await job.interrupt();
    expect(result.stderr, explain(line, result)).toContain("waiting for new events");
    expect(result.stdout, explain(line, result)).toMatch(/result #\d+ initialize/);
    // pnpm reports a script stopped by Ctrl+C as 130 (smcp itself exits 0).
    expect([0, 130], explain(line, result)).toContain(result.code);
    report.push(`  ${line.where}  ran until Ctrl+C (printed the log, then stopped with ${result.code})`);
    return;
  }
  const result = await shell.run(text);
  checkAnswer(line, result);
  const { status, shape } = expectationOf(line.comment);
  report.push(`  ${line.where}  ran: exit 0${result.statuses.length ? `, HTTP ${result.statuses.join(" ")}` : ""}${status || shape ? ", answer as shown" : ""}`);
}

function shBlocks(file: string): DocBlock[] {
  return blocksOf(REPO, file).filter((b) => b.lang === "sh");
}

/** Lines that need a Cloudflare account: they run with `--help` (checkNotRun), which reads nothing a line before them set. */
const ACCOUNT_LINE = /wrangler (login|secret put|secret delete)|pnpm@10 run deploy/;

/**
 * Runs a document's ```sh blocks. README's each run in a fresh shell (each sets what it
 * uses), side by side: their tenants differ (acme, demo). A docs/ page runs in one shell,
 * top to bottom, as its text says; its account lines, which run as `--help` and depend on
 * nothing before them, run meanwhile in a shell of their own (each starts wrangler, the
 * slowest lines of the page).
 */
async function runDocument(file: string): Promise<number> {
  const all = shBlocks(file);
  if (file !== "README.md") {
    const account = (b: DocBlock) => ({ ...b, lines: b.lines.filter((l) => ACCOUNT_LINE.test(commandOf(l))) });
    const rest = (b: DocBlock) => ({ ...b, lines: b.lines.filter((l) => !ACCOUNT_LINE.test(commandOf(l))) });
    const counts = await Promise.all([runBlocksIn(file, all.map(rest)), runBlocksIn(file, all.map(account))]);
    return counts[0] + counts[1];
  }
  return (await Promise.all(all.map((b) => runBlocksIn(file, [b])))).reduce((a, b) => a + b, 0);
}

/** Runs the lines of `group` in one fresh shell, in order; returns how many it ran. */
async function runBlocksIn(file: string, group: DocBlock[]): Promise<number> {
  const shell = newShell(file);
  try {
    for (const block of group) {
      for (const line of block.lines) {
        const t0 = Date.now();
        await runLine(line, shell);
        timings.push({ where: line.where, ms: Date.now() - t0 });
      }
    }
  } finally {
    shell.close();
  }
  return group.reduce((n, b) => n + b.lines.length, 0);
}

describe("the docs' command lines, run as written against npx pnpm@10 dev", () => {
  it("platform:doc-commands setup:commands — every command block is ```sh, on the docs' port, with no pnpm but npx pnpm@10 and no placeholder to guess", () => {
    const cliConfig = readFileSync(path.join(REPO, "packages/cli/src/config.mjs"), "utf8");
    expect(cliConfig).toContain(`DEFAULT_URL = "http://localhost:${DOCS_PORT}"`);
    expect(readFileSync(path.join(REPO, "scripts/dev.mjs"), "utf8")).toContain(`process.env.PORT ?? ${DOCS_PORT}`);
    const problems: string[] = [];
    for (const file of documentsOf(REPO)) {
      for (const block of blocksOf(REPO, file)) {
        const commands = block.lines.filter((l) => /^(npx|pnpm|curl|claude|wrangler|node)\s/.test(commandOf(l)));
        if (block.lang !== "sh" && commands.length) problems.push(`${file}:${block.line}: a block of commands is \`\`\`${block.lang}, not \`\`\`sh, so nothing runs it`);
        if (block.lang !== "sh") continue;
        for (const line of block.lines) {
          if (/(^|[;&|(]\s*)pnpm\s/.test(commandOf(line))) problems.push(`${line.where}: "pnpm" needs a global pnpm; write npx pnpm@10`);
          if (/npx (?!-y )(?!pnpm@10)/.test(commandOf(line))) problems.push(`${line.where}: npx of an unpinned package or without -y`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("setup:dev-vars platform:doc-commands — the banner is the one the README shows, and its claude and Inspector lines work", async () => {
    const banner = platform.banner.split("\n").map((l) => l.trimEnd());
    // The README's sample of the banner: each of its lines is a line of the real one, `…` standing for the key or token.
    const sampleBlock = blocksOf(REPO, "README.md").find((b) => b.lang === "" && b.lines.some((l) => l.text.includes("MCP URL")));
    expect(sampleBlock, "README shows the banner").toBeTruthy();
    for (const sample of sampleBlock!.lines) {
      const pattern = new RegExp(`^\\s*${localized(sample.text.trim()).replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/…/g, "[A-Za-z0-9_-]+")}(\\s.*)?$`);
      expect(banner.some((l) => pattern.test(l)), `${sample.where}: ${sample.text} is not in the banner:\n${platform.banner}`).toBe(true);
    }
    const clientLines = banner.filter((l) => /^\s+(claude mcp add|npx -y @modelcontextprotocol\/inspector@)/.test(l));
    expect(clientLines.filter((l) => l.includes("claude mcp add"))).toHaveLength(2);
    expect(clientLines.filter((l) => l.includes("inspector@2.12.0 --cli"))).toHaveLength(1);
    const shell = newShell();
    try {
      for (const [i, text] of clientLines.entries()) {
        const line: DocLine = { where: `pnpm dev banner line ${i + 1}`, text: text.trim(), comment: "" };
        if (line.text.startsWith("claude")) {
          await checkClaudeLine(line, shell);
          continue;
        }
        const result = await shell.run(line.text);
        checkAnswer(line, result);
        // The Inspector CLI really listed the demo server's tools.
        const tools = (JSON.parse(result.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
        expect(tools).toEqual(["add_note", "list_notes", "search_notes", "delete_note"]);
        report.push(`  ${line.where}  ran the pinned Inspector CLI: tools/list answered ${tools.join(", ")}`);
      }
    } finally {
      shell.close();
    }
  }, DOC_TEST_TIMEOUT);

  it.concurrent("platform:doc-commands admin:cli admin:sessions routes:admin — every command line of README.md works as written and answers as shown", async () => {
    expect(await runDocument("README.md")).toBeGreaterThan(40);
  }, DOC_TEST_TIMEOUT);

  it.concurrent("platform:doc-commands deployed:deployments-api — every command line of docs/tenant-servers.md works as written", async () => {
    expect(await runDocument("docs/tenant-servers.md")).toBeGreaterThanOrEqual(7);
  }, DOC_TEST_TIMEOUT);

  it.concurrent("platform:doc-commands setup:deploy — docs/deploy.md: the account steps exist in the pinned wrangler, the hosted-URL lines work against the local platform", async () => {
    expect(await runDocument("docs/deploy.md")).toBeGreaterThanOrEqual(12);
  }, DOC_TEST_TIMEOUT);
});
