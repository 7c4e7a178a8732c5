/**
 * The dashboard's tenant pages in a real headless Chromium against `wrangler dev`
 * (as dashboard.test.ts, whose launch settings it shares): each page loads with no
 * console error and no CSP complaint and is photographed to
 * test/e2e/screenshots/<page>.png; each action works (rollback, key create and
 * revoke, grant revoke, task cancel, session end) and is audited with its actor.
 *
 * The dashboard signs in with a tenant admin key and the CLI runs with the platform
 * token, so the audit rows tell the two apart (`admin-key:{id}` and `admin`). The
 * parity table maps every dashboard action and view to the admin route it calls and
 * the `smcp ... --json` command that calls the same route; the test runs both and
 * compares the routes each actually requested.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sparticuz from "@sparticuz/chromium";
import { expect as playwrightExpect } from "@playwright/test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchRoute } from "../../workers/smcp/src/routes";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { main } from "../../packages/cli/src/main.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { parseCommandLine } from "../../packages/cli/src/args.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { commands } from "../../packages/cli/src/commands/index.mjs";
import { CHROMIUM_ARGS, SCREENSHOTS, consoleProblems } from "./chromium";
import { oauthGrant } from "./oauth-grant";
import { ADMIN_TOKEN, Platform } from "./platform";
import { TASKS_EXTENSION, lastMessage, post2026 } from "./raw-2026";
import { UPSTREAM_KEY, startUpstream, stopUpstream, urlOf } from "./upstream-server";

const here = path.dirname(fileURLToPath(import.meta.url));
const converter = readFileSync(path.join(here, "../../examples/unit-converter.js"), "utf8");
const expectPage = playwrightExpect.configure({ timeout: 15_000 });

const T = "/admin/v1/tenants/:tenant";
const TENANT = "hooli";

/** Ids of what the test made, for the dashboard (`ui`) and for the CLI (`cli`) to act on. */
interface Made {
  adminKeyId: string;
  adminKey: string;
  key: string;
  revokeKeyId: string;
  grants: { ui: string; cli: string };
  tasks: { ui: string; cli: string };
  sessions: { ui: string; cli: string };
  cliKeyId?: string;
}

/**
 * Every dashboard action and view, the admin route it calls, and the CLI command that
 * does the same. `cli` builds the command line from what the test made; `audit` names
 * the audit action an action writes (views write none).
 */
const PARITY: { what: string; method: string; route: string; cli: (m: Made) => string[]; audit?: string }[] = [
  { what: "the tenant picker (a tenant admin key's own tenant)", method: "GET", route: T, cli: () => ["tenants", "show", TENANT] },
  { what: "list servers", method: "GET", route: `${T}/servers`, cli: () => ["servers", "ls", TENANT] },
  { what: "a server's health", method: "GET", route: `${T}/servers/:server`, cli: () => ["servers", "show", TENANT, "units"] },
  { what: "a server's deployments", method: "GET", route: `${T}/servers/:server/deployments`, cli: () => ["servers", "versions", TENANT, "units"] },
  { what: "a server's secret names", method: "GET", route: `${T}/servers/:server/secrets`, cli: () => ["secrets", "ls", TENANT, "units"] },
  { what: "a server's tool policy", method: "GET", route: `${T}/servers/:server/policy`, cli: () => ["policy", "show", TENANT, "notes"] },
  { what: "a server's traffic charts", method: "GET", route: `${T}/servers/:server/series`, cli: () => ["metrics", TENANT, "--server", "notes", "--range", "24h"] },
  { what: "list sessions", method: "GET", route: `${T}/sessions`, cli: () => ["sessions", "ls", TENANT] },
  { what: "a session", method: "GET", route: `${T}/sessions/:session`, cli: (m) => ["sessions", "show", TENANT, m.sessions.cli] },
  { what: "a session's requests", method: "GET", route: `${T}/sessions/:session/requests`, cli: (m) => ["sessions", "requests", TENANT, m.sessions.cli] },
  { what: "a session's SSE events", method: "GET", route: `${T}/sessions/:session/events`, cli: (m) => ["sessions", "events", TENANT, m.sessions.cli] },
  { what: "list keys", method: "GET", route: `${T}/keys`, cli: () => ["keys", "ls", TENANT] },
  { what: "list OAuth grants", method: "GET", route: `${T}/grants`, cli: () => ["grants", "ls", TENANT] },
  { what: "list tasks", method: "GET", route: `${T}/tasks`, cli: () => ["tasks", "ls", TENANT] },
  { what: "read the audit log", method: "GET", route: `${T}/audit`, cli: () => ["audit", TENANT] },
  { what: "verify the audit log", method: "GET", route: `${T}/audit/verify`, cli: () => ["audit", TENANT, "--verify"] },
  { what: "roll back a deployment", method: "POST", route: `${T}/servers/:server/deployments/:version/activate`, cli: () => ["servers", "rollback", TENANT, "units", "2"], audit: "deployment.activated" },
  { what: "create a key", method: "POST", route: `${T}/keys`, cli: () => ["keys", "create", TENANT, "--label", "made-by-cli"], audit: "key.created" },
  { what: "revoke a key", method: "DELETE", route: `${T}/keys/:key`, cli: (m) => ["keys", "revoke", TENANT, m.cliKeyId!], audit: "key.revoked" },
  { what: "revoke an OAuth grant", method: "DELETE", route: `${T}/grants/:grant`, cli: (m) => ["grants", "revoke", TENANT, m.grants.cli], audit: "oauth.revoked" },
  { what: "cancel a task", method: "DELETE", route: `${T}/tasks/:task`, cli: (m) => ["tasks", "cancel", TENANT, m.tasks.cli], audit: "task.cancelled" },
  { what: "end a session", method: "DELETE", route: `${T}/sessions/:session`, cli: (m) => ["sessions", "kill", TENANT, m.sessions.cli], audit: "session.ended" },
];

const platform = new Platform();
const profile = mkdtempSync(path.join(tmpdir(), "smcp-dashboard-pages-"));
let browser: BrowserContext;
let page: Page;
let made: Made;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
/** What the browser asked for (method and path), every console error, every CSP complaint. */
const requested: { method: string; url: URL }[] = [];
let consoleErrors: string[] = [];

async function deploy(server: string, source: string): Promise<void> {
  const res = await fetch(`${platform.url}/admin/v1/tenants/${TENANT}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: source,
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function startTask(key: string): Promise<string> {
  const res = await post2026(platform.mcpUrl(TENANT, "everything"), key, "tools/call", { name: "slow_compute", arguments: { seconds: 300 } }, { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
  const { text, message } = await lastMessage(res);
  expect(message.result?.taskId, text).toMatch(/^task_/);
  return message.result.taskId;
}

async function grantId(clientName: string, key: string): Promise<string> {
  const grant = await oauthGrant(platform.url, TENANT, "notes", key, clientName);
  const { grants } = await platform.admin().call("GET", `/tenants/${TENANT}/grants`);
  return grants.find((g: { client: { id: string } }) => g.client.id === grant.clientId).id;
}

beforeAll(async () => {
  upstream = await startUpstream();
  await platform.start();
  const admin = platform.admin();
  const { key } = await platform.tenant(TENANT);
  const upstreamKey = await fetch(`${platform.url}/admin/v1/tenants/${TENANT}/servers/remote/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: UPSTREAM_KEY });
  expect(upstreamKey.status).toBe(201);
  await admin.call("PUT", `/tenants/${TENANT}/servers/remote/upstream`, { url: urlOf(upstream), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
  await deploy("units", converter);
  await deploy("units", `${converter}\n// version 2\n`);
  await admin.call("PUT", `/tenants/${TENANT}/servers/units`);
  const secret = await fetch(`${platform.url}/admin/v1/tenants/${TENANT}/servers/units/secrets/API_TOKEN`, { method: "PUT", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: "never-shown-value" });
  expect(secret.status).toBe(201);
  await admin.call("PUT", `/tenants/${TENANT}/servers/notes/policy`, { deny: ["delete_note"] });
  const adminKey = await admin.call("POST", `/tenants/${TENANT}/admin-keys`, { label: "dashboard" });
  const revokeKey = await admin.createKey(TENANT, "to-revoke");
  const [uiSession, cliSession] = await Promise.all([platform.connect(TENANT, "notes", key), platform.connect(TENANT, "notes", key)]);
  await uiSession.client.callTool({ name: "add_note", arguments: { title: "traffic", body: "for the charts" } });
  made = {
    adminKeyId: adminKey.id,
    adminKey: adminKey.key,
    key,
    revokeKeyId: revokeKey.id,
    grants: { ui: await grantId("Dashboard client", key), cli: await grantId("CLI client", key) },
    tasks: { ui: await startTask(key), cli: await startTask(key) },
    sessions: { ui: uiSession.transport.sessionId!, cli: cliSession.transport.sessionId! },
  };


  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launchPersistentContext(profile, { executablePath: await sparticuz.executablePath(), headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  browser.on("request", (r) => requested.push({ method: r.method(), url: new URL(r.url()) }));
  consoleErrors = consoleProblems(browser);
  page = await browser.newPage();
  page.on("dialog", (d) => void d.accept());
  const response = await page.goto(`${platform.url}/admin`);
  expect(response?.headers()["content-security-policy"]).toContain("require-trusted-types-for 'script'");
  await page.getByLabel("Admin token").fill(made.adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expectPage(page.getByRole("heading", { name: `Tenant ${TENANT}` })).toBeVisible();
});

afterAll(async () => {
  await browser?.close();
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
  rmSync(profile, { recursive: true, force: true });
});

async function openPage(name: string): Promise<void> {
  await page.locator("#page-nav").getByRole("button", { name, exact: true }).click();
}
const shoot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** The audit rows of the tenant with the given actor and action. */
async function audited(actor: string, action: string): Promise<{ target: string; detail: Record<string, unknown> }[]> {
  const { entries } = await platform.admin().call("GET", `/tenants/${TENANT}/audit?limit=1000`);
  return entries.filter((e: { actor: string; action: string }) => e.actor === actor && e.action === action);
}

describe("dashboard pages", () => {
  it("dashboard:server-health dashboard:deployments dashboard:pages — a tenant admin key sees its tenant only; a server's health, secret names, policy; one click rolls back", async () => {
    await expectPage(page.locator("#platform")).toBeHidden();
    await expectPage(page.locator("#tenants li")).toHaveCount(1);
    await page.locator("#server-list").getByRole("button", { name: "Server notes" }).click();
    await expectPage(page.locator("#server-health")).toContainText("built-in");
    await expectPage(page.locator("#policy")).toContainText("delete_note");
    await expectPage(page.locator("#deployments-section")).toBeHidden();
    await shoot("servers");

    await page.locator("#server-list").getByRole("button", { name: "Server remote" }).click();
    for (const text of ["upstream", urlOf(upstream), "serving", "reachable, probe"]) await expectPage(page.locator("#server-health")).toContainText(text);
    await expectPage(page.locator("#secrets")).toContainText("UPSTREAM_KEY");
    await expectPage(page.locator("#page-servers")).not.toContainText(UPSTREAM_KEY);

    await page.locator("#server-list").getByRole("button", { name: "Server units" }).click();
    const health = page.locator("#server-health");
    for (const text of ["deployed", "v2", "serving", "convert"]) await expectPage(health).toContainText(text);
    await expectPage(page.locator("#secrets")).toContainText("API_TOKEN");
    await expectPage(page.locator("#page-servers")).not.toContainText("never-shown-value");
    await expectPage(page.locator("#policy-note")).toContainText("No tool policy");
    await expectPage(page.locator('#deployments tr[data-version="2"]')).toContainText("serving");
    await shoot("deployments");

    await page.getByRole("button", { name: "Roll back units to v1" }).click();
    await expectPage(page.getByRole("status").first()).toContainText(`${TENANT}/units now serves v1`);
    await expectPage(page.locator('#deployments tr[data-version="1"]')).toContainText("serving");
    await expectPage(health).toContainText("v1");
    expect((await platform.admin().call("GET", `/tenants/${TENANT}/servers/units`)).version).toBe(1);
    expect((await audited(`admin-key:${made.adminKeyId}`, "deployment.activated")).map((e) => [e.target, e.detail])).toEqual([["units", { version: 1 }]]);
  });

  it("dashboard:keys dashboard:pages — creating a key shows its secret once, and the key works; revoking one stops it", async () => {
    await openPage("Keys");
    await page.getByLabel("New key's label").fill("made-in-dashboard");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.locator("#new-key-value");
    await expectPage(secret).toHaveText(/^smcp_/);
    const key = (await secret.textContent())!;
    const listed = (await platform.admin().call("GET", `/tenants/${TENANT}/keys`)).keys.find((k: { label: string }) => k.label === "made-in-dashboard");
    await expectPage(page.locator(`#keys tr[data-key="${listed.id}"]`)).toContainText("live");
    const works = await lastMessage(await post2026(platform.mcpUrl(TENANT, "notes"), key, "tools/list", {}));
    expect(works.message.result?.tools?.length, works.text).toBeGreaterThan(0);
    await shoot("keys");
    await page.getByRole("button", { name: "Done" }).click();
    await expectPage(page.locator("#page-keys")).not.toContainText(key);

    await page.getByRole("button", { name: `Revoke key ${made.revokeKeyId}` }).click();
    await expectPage(page.locator(`#keys tr[data-key="${made.revokeKeyId}"]`)).toContainText("revoked");
    const actor = `admin-key:${made.adminKeyId}`;
    expect((await audited(actor, "key.created")).map((e) => e.target)).toEqual([listed.id]);
    expect((await audited(actor, "key.revoked")).map((e) => e.target)).toEqual([made.revokeKeyId]);
  });

  it("dashboard:grants-tasks dashboard:pages — revokes an OAuth grant and cancels a task", async () => {
    await openPage("OAuth grants");
    const grant = page.locator(`#grants tr[data-grant="${made.grants.ui}"]`);
    await expectPage(grant).toContainText("Dashboard client");
    await shoot("grants");
    await grant.getByRole("button", { name: `Revoke grant ${made.grants.ui}` }).click();
    await expectPage(grant).toHaveCount(0);

    await openPage("Tasks");
    const task = page.locator(`#tasks tr[data-task="${made.tasks.ui}"]`);
    await expectPage(task).toContainText("working");
    await shoot("tasks");
    await task.getByRole("button", { name: `Cancel task ${made.tasks.ui}` }).click();
    await expectPage(task).toContainText("cancelled");
    const got = await lastMessage(await post2026(platform.mcpUrl(TENANT, "everything"), made.key, "tasks/get", { taskId: made.tasks.ui }, { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } }));
    expect(got.message.result?.status, got.text).toBe("cancelled");

    const actor = `admin-key:${made.adminKeyId}`;
    expect((await audited(actor, "oauth.revoked")).map((e) => e.target)).toEqual([made.grants.ui]);
    expect((await audited(actor, "task.cancelled")).map((e) => e.target)).toEqual([made.tasks.ui]);
  });

  it("dashboard:pages platform:dashboard — the sessions page ends a session; the audit page shows the verified chain and every action with its actor", async () => {
    await openPage("Sessions");
    const session = page.locator(`#sessions tr[data-session="${made.sessions.ui}"]`);
    await session.getByRole("button", { name: `Open session ${made.sessions.ui}` }).click();
    await expectPage(page.locator("#requests tbody tr").filter({ hasText: "add_note" })).toHaveCount(1);
    await shoot("sessions");
    await page.getByRole("button", { name: "End session" }).click();
    await expectPage(page.locator("#detail-state")).toContainText("ended");
    await expectPage(session).toHaveCount(0);
    expect((await audited(`admin-key:${made.adminKeyId}`, "session.ended")).map((e) => e.target)).toEqual([made.sessions.ui]);

    await openPage("Audit log");
    await expectPage(page.locator('#audit-verdict [data-verified="true"]')).toContainText("Chain verified");
    const rows = page.locator("#audit tbody tr");
    for (const action of ["deployment.activated", "key.created", "key.revoked", "oauth.revoked", "task.cancelled", "session.ended"]) {
      await expectPage(rows.filter({ hasText: `admin-key:${made.adminKeyId}` }).filter({ hasText: action }).first()).toBeVisible();
    }
    // Newest first: the session just ended is the top row.
    await expectPage(rows.first()).toContainText("session.ended");
    await shoot("audit");
  });

  it("dashboard:cli-parity — every dashboard action and view has an smcp command with --json that calls the same admin route, audited as its own caller", async () => {
    const browserHits = (method: string, route: string) => requested.filter((r) => r.method === method && matchRoute([{ method, pattern: route, handler: 0 }], method, r.url.pathname).kind === "found");
    const realFetch = globalThis.fetch;
    for (const row of PARITY) {
      expect(browserHits(row.method, row.route), `the dashboard calls ${row.method} ${row.route} (${row.what})`).not.toHaveLength(0);

      const argv = [...row.cli(made), "--json"];
      const parsed = parseCommandLine(argv, commands);
      expect(parsed.kind, argv.join(" ")).toBe("run");
      expect(parsed.opts.json).toBe(true);

      const before = row.audit ? (await audited("admin", row.audit)).length : 0;
      const cliHits: { method: string; path: string }[] = [];
      globalThis.fetch = (input, init) => {
        cliHits.push({ method: init?.method ?? "GET", path: new URL(String(input)).pathname });
        return realFetch(input, init);
      };
      let stdout = "";
      let stderr = "";
      let code: number;
      try {
        code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: { SMCP_URL: platform.url, SMCP_ADMIN_TOKEN: ADMIN_TOKEN } });
      } finally {
        globalThis.fetch = realFetch;
      }
      expect(code, `smcp ${argv.join(" ")}: ${stderr}`).toBe(0);
      const answer = JSON.parse(stdout);
      expect(cliHits.some((h) => matchRoute([{ method: row.method, pattern: row.route, handler: 0 }], h.method, h.path).kind === "found"), `smcp ${argv.join(" ")} calls ${row.method} ${row.route}`).toBe(true);
      if (row.what === "create a key") made.cliKeyId = answer.id;
      if (row.audit) expect((await audited("admin", row.audit)).length, `${row.audit} audited as the platform admin`).toBe(before + 1);
    }
    expect((await platform.admin().call("GET", `/tenants/${TENANT}/servers/units`)).version).toBe(2);
    // And the table is whole: every admin call the dashboard made is one of its rows.
    const unmapped = requested.filter((r) => r.url.pathname.startsWith("/admin/v1/") && !PARITY.some((row) => matchRoute([{ method: row.method, pattern: row.route, handler: 0 }], r.method, r.url.pathname).kind === "found"));
    expect(unmapped.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([]);
  });

  it("dashboard:top — smcp top --once prints each enabled server's live sessions and rates", async () => {
    let stdout = "";
    let stderr = "";
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: { SMCP_URL: platform.url, SMCP_ADMIN_TOKEN: ADMIN_TOKEN } };
    expect(await main(["top", TENANT, "--once", "--json"], io), stderr).toBe(0);
    const frame = JSON.parse(stdout);
    const { sessions } = await platform.admin().call("GET", `/tenants/${TENANT}/sessions`);
    expect(frame.tenant).toBe(TENANT);
    expect(frame.servers.map((s: { server: string }) => s.server).sort()).toEqual(["everything", "notes", "remote", "units"]);
    expect(frame.servers.find((s: { server: string }) => s.server === "notes").sessions).toBe(sessions.filter((s: { server: string }) => s.server === "notes").length);
    stdout = "";
    expect(await main(["top", TENANT, "--once"], io), stderr).toBe(0);
    expect(stdout).toMatch(/^SERVER\s+SESSIONS\s+REQ\/MIN\s+ERR%\s+P50 MS\s+P95 MS\s+P99 MS$/m);
    expect(stdout).toMatch(/^units\s+0\s/m);
  });

  it("dashboard:pages platform:dashboard — no page logged an error or a CSP complaint, and nothing was fetched from another origin", () => {
    expect(consoleErrors).toEqual([]);
    expect(requested.filter((r) => r.url.origin !== platform.url)).toEqual([]);
    expect(requested.length).toBeGreaterThan(0);
  });
});
