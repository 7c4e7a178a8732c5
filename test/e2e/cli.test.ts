// The admin CLI as a person runs it: `smcp` as a child process against `wrangler dev`,
// inspecting a session the official SDK client holds open.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oauthGrant } from "./oauth-grant";
import { ADMIN_TOKEN, Platform } from "./platform";
import { TASKS_EXTENSION, lastMessage, post2026 } from "./raw-2026";
// @ts-expect-error plain ESM helpers shared with the scripts
import { freePort } from "../../scripts/lib/wrangler.mjs";

const SMCP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/cli/bin/smcp.mjs");

// These tests read answers back from sessions' event logs; by default a call answered within
// SMCP_SESSION_JSON_BUDGET_MS goes out as one JSON body and is not logged (only its
// request-log row is), so this platform streams every answer.
const platform = new Platform({ vars: { SMCP_SESSION_RESPONSE_MODE: "sse" } });
let tenant: string;
let client: Client;
let sessionId: string;
let firstNoteId: string;
let notesKey: string;

beforeAll(async () => {
  await platform.start();
  const provisioned = await platform.tenant("cli-acme");
  tenant = provisioned.tenant;
  notesKey = provisioned.key;
  const connected = await platform.connect(tenant, "notes", provisioned.key);
  client = connected.client;
  sessionId = connected.transport.sessionId!;
  firstNoteId = await addNote("first");
});
afterAll(async () => {
  await client?.close().catch(() => {});
  await platform.dispose();
});

async function addNote(title: string): Promise<string> {
  const result = await client.callTool({ name: "add_note", arguments: { title, body: `${title} note` } });
  return (result.structuredContent as { id: string }).id;
}

interface SmcpOptions {
  url?: string;
  token?: string | null;
  envToken?: string;
}

/** One `smcp` process; output is collected as it arrives, so a test can wait for a line. */
class Smcp {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;

  /** `token: null` sends no --token, so the CLI takes SMCP_ADMIN_TOKEN from `envToken`. */
  constructor(args: string[], { url = platform.url, token = ADMIN_TOKEN, envToken = "" }: SmcpOptions = {}) {
    this.child = spawn(process.execPath, [SMCP, ...args, "--url", url, ...(token === null ? [] : ["--token", token])], {
      env: { ...process.env, SMCP_URL: "", SMCP_ADMIN_TOKEN: envToken, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  /** Resolves once `stream` contains `text`; fails if the process exits first. */
  waitFor(stream: "stdout" | "stderr", text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this[stream].includes(text)) return false;
        this.child[stream]!.off("data", onData);
        this.child.off("close", onClose);
        resolve();
        return true;
      };
      const onData = () => void check();
      const onClose = () => {
        if (!check()) reject(new Error(`smcp exited before printing ${JSON.stringify(text)}:\n${this.stdout}\n${this.stderr}`));
      };
      this.child[stream]!.on("data", onData);
      this.child.on("close", onClose);
      check();
    });
  }
}

/** Runs `smcp` to completion. */
async function smcp(args: string[], options?: SmcpOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = new Smcp(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** A task of `search_notes` (a task tool of `notes`), created as a 2026-07-28 client that declares the Tasks extension does. */
async function startSearchTask(key: string): Promise<string> {
  const res = await post2026(platform.mcpUrl(tenant, "notes"), key, "tools/call", { name: "search_notes", arguments: { query: "first" } }, { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
  const { text, message } = await lastMessage(res);
  expect(message.result?.taskId, text).toMatch(/^task_/);
  return message.result.taskId;
}

describe("smcp, the admin CLI", () => {
  it("admin:cli tasks:admin — lists the tenant's tasks and cancels one", async () => {
    const taskId = await startSearchTask(notesKey);
    const listed = await smcp(["tasks", "ls", tenant]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${taskId}\\s+notes\\s+key `, "m"));
    const cancelled = await smcp(["tasks", "cancel", tenant, taskId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`cancelled ${taskId}`);
  });

  it("admin:cli admin:tenants — lists tenants in a table", async () => {
    const { code, stdout } = await smcp(["tenants", "ls"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^TENANT\s+NAME\s+AUTH\s+CREATED$/m);
    expect(stdout).toMatch(new RegExp(`^${tenant}\\s+${tenant}\\s+key\\s+`, "m"));
  });

  it("admin:cli admin:sessions — lists the tenant's live session with its server and client", async () => {
    const { code, stdout } = await smcp(["sessions", "ls", tenant]);
    expect(code).toBe(0);
    const line = stdout.split("\n").find((l) => l.startsWith(sessionId));
    expect(line).toMatch(/\bnotes\b.*\bsmcp-e2e 1\.0\.0\b/);
  });

  it("admin:cli admin:sessions — shows one session: protocol version and client", async () => {
    const json = await smcp(["sessions", "show", tenant, sessionId, "--json"]);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout);
    expect(view).toMatchObject({ id: sessionId, tenant, server: "notes", clientInfo: { name: "smcp-e2e", version: "1.0.0" } });

    const { code, stdout } = await smcp(["sessions", "show", tenant, sessionId]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^protocol\\s+${view.protocolVersion}$`, "m"));
    expect(stdout).toMatch(/^client\s+smcp-e2e 1\.0\.0$/m);
    expect(stdout).toMatch(/^event log\s+\d+ events?/m);
  });

  it("admin:cli admin:sessions — prints the session's events, summarised, and raw with --json", async () => {
    const { code, stdout } = await smcp(["sessions", "events", tenant, sessionId]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SEQ\s+AGE\s+STREAM\s+SIZE\s+MESSAGE$/m);
    expect(stdout).toMatch(/result #\d+ initialize 2025-/);
    expect(stdout).toContain(`"Added note ${firstNoteId}"`);

    const json = await smcp(["sessions", "events", tenant, sessionId, "--json", "--limit", "2"]);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(page.next).toBe(2);
  });

  it("admin:cli admin:sessions — lists the session's requests with the tool called", async () => {
    const { code, stdout } = await smcp(["sessions", "requests", tenant, sessionId]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SEQ\s+AT\s+ID\s+REQUEST\s+STATUS\s+TIME/m);
    expect(stdout).toMatch(/\binitialize\s+ok\b/);
    expect(stdout).toMatch(/\btools\/call add_note\s+ok\b/);
  });

  it("admin:cli admin:sessions — follows the event log: an event that arrives after it started is printed", async () => {
    const follow = new Smcp(["sessions", "events", tenant, sessionId, "--follow"]);
    try {
      await follow.waitFor("stderr", "waiting for new events");
      const noteId = await addNote("while following");
      await follow.waitFor("stdout", `"Added note ${noteId}"`);
      follow.child.kill("SIGINT");
      expect(await follow.exited).toBe(0);
    } finally {
      follow.child.kill("SIGKILL");
    }
  });

  it("admin:cli admin:health — prints platform health", async () => {
    const { code, stdout } = await smcp(["health"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^status\s+ok\b/m);
    expect(stdout).toMatch(/^sessions\s+\d+/m);
  });

  it("admin:cli admin:sessions — kills the session: a follower exits cleanly, and show then fails with the API's not-found message", async () => {
    const follow = new Smcp(["sessions", "events", tenant, sessionId, "--follow"]);
    try {
      await follow.waitFor("stderr", "waiting for new events");
      const kill = await smcp(["sessions", "kill", tenant, sessionId]);
      expect(kill).toMatchObject({ code: 0, stdout: `terminated ${sessionId}\n` });
      expect(await follow.exited).toBe(0);
      expect(follow.stderr).toContain(`session ${sessionId} has ended`);
    } finally {
      follow.child.kill("SIGKILL");
    }

    const show = await smcp(["sessions", "show", tenant, sessionId]);
    expect(show.code).toBe(1);
    expect(show.stdout).toBe("");
    expect(show.stderr).toBe(`smcp: No session ${sessionId} for tenant ${tenant}\n`);
  });

  it("admin:cli platform:audit-retention — audit retention: checkpoint, export to a file that verifies offline, drop, and verify from the checkpoint", async () => {
    const checkpoint = await smcp(["audit", "checkpoint", tenant, "--json"]);
    expect(checkpoint.code, checkpoint.stderr).toBe(0);
    const { seq } = JSON.parse(checkpoint.stdout).checkpoint;

    const early = await smcp(["audit", "drop", tenant, "--through", String(seq)]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("has not been exported");

    const dir = await mkdtemp(path.join(tmpdir(), "smcp-audit-"));
    const file = path.join(dir, "audit.json");
    const exported = await smcp(["audit", "export", tenant, "--through", String(seq), "--out", file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`saved entries 1..${seq} of ${tenant}`);
    const offline = await smcp(["audit", "verify-file", file]);
    expect(offline).toMatchObject({ code: 0, stdout: `${file}: entries 1..${seq} of ${tenant} verify (${seq} entries)\n` });

    // An edited file no longer verifies, without asking the platform.
    const data = JSON.parse(await readFile(file, "utf8"));
    data.entries[0].actor = "mallory";
    await writeFile(file, JSON.stringify(data));
    const forged = await smcp(["audit", "verify-file", file]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("BROKEN at entry 1");

    const dropped = await smcp(["audit", "drop", tenant, "--through", String(seq)]);
    expect(dropped).toMatchObject({ code: 0, stdout: `dropped ${seq} audit entries of ${tenant} through ${seq}\n` });
    const verify = await smcp(["audit", tenant, "--verify"]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`intact since entry ${seq}: \\d+ entries`));
  });

  it("admin:cli platform:grants — grants ls shows an OAuth grant (table and --json); grants revoke ends its session and its token stops working", async () => {
    const own = await platform.tenant("cli-grants");
    const grant = await oauthGrant(platform.url, own.tenant, "notes", own.key, "CLI grants test");
    const { keys } = await platform.admin().call("GET", `/tenants/${own.tenant}/keys`);
    const { client: oauthClient } = await platform.connect(own.tenant, "notes", grant.accessToken);

    const listed = await smcp(["grants", "ls", own.tenant]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^GRANT\s+CLIENT\s+APPROVED BY\s+SERVER\s+CREATED\s+LAST USED\s+EXPIRES$/m);
    const line = listed.stdout.split("\n").find((l) => l.startsWith("grant_"));
    expect(line).toContain(`CLI grants test (${grant.clientId})`);
    expect(line).toMatch(new RegExp(`\\s${keys[0].id}\\s+notes\\s`));
    const grantId = line!.split(/\s+/)[0]!;
    const json = await smcp(["grants", "ls", own.tenant, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      grants: [{ id: grantId, client: { id: grant.clientId, name: "CLI grants test" }, approver: { keyId: keys[0].id, subject: null, email: null }, server: "notes" }],
      next: null,
    });

    const revoked = await smcp(["grants", "revoke", own.tenant, grantId]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${grantId}: 1 session(s) ended\n` });
    await expect(oauthClient.callTool({ name: "list_notes", arguments: {} })).rejects.toThrow();
    const refused = await fetch(platform.mcpUrl(own.tenant, "notes"), {
      method: "POST",
      headers: { Authorization: `Bearer ${grant.accessToken}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    expect(refused.status).toBe(401);
    expect((await smcp(["grants", "ls", own.tenant])).stdout).toBe(`tenant ${own.tenant} has no live OAuth grants\n`);
    const again = await smcp(["grants", "revoke", own.tenant, grantId]);
    expect(again).toMatchObject({ code: 0, stdout: `revoked ${grantId} (it was already revoked): 0 session(s) ended\n` });
    const unknown = await smcp(["grants", "revoke", own.tenant, "grant_nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No live grant grant_nope");
    await oauthClient.close().catch(() => {});
  });

  it("admin:cli routes:admin — says so when the admin token is refused", async () => {
    const { code, stderr } = await smcp(["tenants", "ls"], { token: "not-the-token" });
    expect(code).toBe(1);
    expect(stderr).toBe("smcp: the admin token was refused; set SMCP_ADMIN_TOKEN or --token\n");
  });

  it("admin:cli — says so when nothing listens at the URL", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stderr } = await smcp(["tenants", "ls"], { url });
    expect(code).toBe(1);
    expect(stderr).toBe(`smcp: cannot reach SMCP at ${url}: is \`pnpm dev\` running?\n`);
  });

  it("admin:cli — answers a bad command line with the usage line and exit 2", async () => {
    const { code, stderr } = await smcp(["sessions", "show", tenant]);
    expect(code).toBe(2);
    expect(stderr).toBe("smcp: missing <session>\nusage: smcp sessions show <tenant> <session>\n");
    const help = await smcp(["sessions", "events", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("smcp sessions events <tenant> <session> [--after N] [--limit N] [--follow]");
  });
});

describe("smcp with a tenant admin key", () => {
  it("admin:cli auth:tenant-admin-keys — admin-keys create shows the key once; with --token or SMCP_ADMIN_TOKEN it manages its own tenant", async () => {
    const own = await platform.tenant("cli-own");
    const created = await smcp(["admin-keys", "create", own.tenant, "--label", "ci"]);
    expect(created.code, created.stderr).toBe(0);
    const key = new RegExp(`^  (smcp_ak_${own.tenant}\\.[A-Za-z0-9_-]{43})$`, "m").exec(created.stdout)?.[1];
    expect(key, created.stdout).toBeDefined();
    expect(created.stdout).toMatch(new RegExp(`^created admin key (ak_[A-Za-z0-9_-]{12}) \\(ci\\) for tenant ${own.tenant}$`, "m"));

    const listed = await smcp(["admin-keys", "ls", own.tenant]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ADMIN KEY\s+LABEL\s+CREATED\s+STATUS$/m);
    expect(listed.stdout).toMatch(/^ak_\S+\s+ci\s+.*\blive$/m);
    expect(listed.stdout).not.toContain(key!.split(".")[1]);

    const enabled = await smcp(["servers", "enable", own.tenant, "everything"], { token: key! });
    expect(enabled.code, enabled.stderr).toBe(0);
    const minted = await smcp(["keys", "create", own.tenant, "--label", "from-ci", "--json"], { token: key! });
    expect(minted.code, minted.stderr).toBe(0);
    expect(JSON.parse(minted.stdout)).toMatchObject({ label: "from-ci", key: expect.stringMatching(/^smcp_sk_/) });
    const shown = await smcp(["tenants", "show", own.tenant], { token: null, envToken: key! });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^servers\s+everything, notes$/m);
    expect(shown.stdout).toMatch(/^keys\s+2 live$/m);
  });

  it("admin:cli auth:tenant-admin-keys — a command refused for a tenant admin key prints the API's 403 message; a revoked key says so", async () => {
    const own = await platform.tenant("cli-scoped");
    const created = JSON.parse((await smcp(["admin-keys", "create", own.tenant, "--json"])).stdout);
    const asKey = { token: created.key as string };

    const list = await smcp(["tenants", "ls"], asKey);
    expect(list).toEqual({ code: 1, stdout: "", stderr: `smcp: GET /admin/v1/tenants needs the platform admin token (SMCP_ADMIN_TOKEN); a tenant admin key manages only its own tenant (${own.tenant})\n` });
    const other = await smcp(["keys", "ls", tenant], asKey);
    expect(other).toEqual({ code: 1, stdout: "", stderr: `smcp: This admin key manages tenant ${own.tenant} only\n` });
    const rm = await smcp(["tenants", "rm", own.tenant], asKey);
    expect(rm).toEqual({ code: 1, stdout: "", stderr: `smcp: Deleting a tenant needs the platform admin token (SMCP_ADMIN_TOKEN); a tenant admin key manages only its own tenant (${own.tenant})\n` });
    expect((await smcp(["tenants", "show", own.tenant])).code).toBe(0);

    const revoked = await smcp(["admin-keys", "revoke", own.tenant, created.id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked admin key ${created.id}\n` });
    const after = await smcp(["keys", "ls", own.tenant], asKey);
    expect(after).toEqual({
      code: 1,
      stdout: "",
      stderr: "smcp: the tenant admin key was refused (revoked, or its tenant deleted); ask for a new one or use the platform admin token\n",
    });
  });
});
