/**
 * The admin dashboard (`GET /admin`) in a real headless Chromium, against `wrangler
 * dev`, with the official SDK client making the traffic it shows. The browser is
 * the Chromium build shipped inside the npm package `@sparticuz/chromium` (unpacked
 * on first use), driven by `playwright-core`; nothing is downloaded at test time.
 * Every wait is one of Playwright's auto-waiting expectations: no sleeps, no timings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sparticuz from "@sparticuz/chromium";
import { expect as playwrightExpect } from "@playwright/test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS } from "./chromium";
import { oauthGrant } from "./oauth-grant";
import { ADMIN_TOKEN, Platform } from "./platform";

/** Generous, because the page polls every 2 s and CI machines are slow; not a timing assertion. */
const expectPage = playwrightExpect.configure({ timeout: 15_000 });

/** A tenant name an attacker could choose: it must show as text and never run. */
const HOSTILE_NAME = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>Acme & "Co"`;
/** An OAuth client name an attacker could register: shown as text in the grants table. */
const HOSTILE_CLIENT = `<img src=x onerror="window.__pwned=3">Evil & "Client"`;

// These tests read answers back from sessions' event logs; by default a call answered within
// SMCP_SESSION_JSON_BUDGET_MS goes out as one JSON body and is not logged (only its
// request-log row is), so this platform streams every answer.
const platform = new Platform({ vars: { SMCP_SESSION_RESPONSE_MODE: "sse" } });
const profile = mkdtempSync(path.join(tmpdir(), "smcp-dashboard-chromium-"));
let browser: BrowserContext;
let keyId: string;
let key: string;
/** Everything the browser asked for, and every CSP or Trusted Types complaint it logged. */
const requested: string[] = [];
const violations: string[] = [];

beforeAll(async () => {
  await platform.start();
  const admin = platform.admin();
  await admin.createTenant("dash", { name: HOSTILE_NAME });
  await admin.enableServer("dash", "notes");
  ({ id: keyId, key } = await admin.createKey("dash", "dashboard-test"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: await sparticuz.executablePath(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
  browser.on("request", (r) => requested.push(r.url()));
  browser.on("console", (m) => {
    if (/Content Security Policy|Trusted ?(Types?|HTML|Script)/i.test(m.text())) violations.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await platform.dispose();
  rmSync(profile, { recursive: true, force: true });
});

async function openDashboard(token: string): Promise<Page> {
  const page = await browser.newPage();
  const response = await page.goto(`${platform.url}/admin`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

describe("admin dashboard", () => {
  it("admin:cli routes:admin — says so when the admin token is refused", async () => {
    const page = await openDashboard("not-the-admin-token");
    await expectPage(page.getByRole("alert")).toContainText("admin token was refused");
    await expectPage(page.getByLabel("Admin token")).toBeVisible();
    await expectPage(page.getByRole("heading", { name: "Platform health" })).toBeHidden();
    expect(await page.evaluate(() => sessionStorage.getItem("smcp-admin-token"))).toBeNull();
    await page.close();
  });

  it("routes:dashboard platform:dashboard — shows tenants, live sessions and their logs, follows new requests, and ends a session", async () => {
    const { client, transport } = await platform.connect("dash", "notes", key);
    const sessionId = transport.sessionId!;
    const added = await client.callTool({ name: "add_note", arguments: { title: "first", body: "from the SDK client" } });
    const noteId = (added.structuredContent as { id: string }).id;
    const { sessions } = await platform.admin().call("GET", "/tenants/dash/sessions");
    const record = sessions.find((s: { id: string }) => s.id === sessionId);

    const page = await openDashboard(ADMIN_TOKEN);
    await expectPage(page.locator("#health")).toContainText("notes: 1");

    // The hostile tenant name is shown as text; none of it became markup.
    const tenant = page.locator("#tenants").getByRole("button", { name: /^dash/ });
    await expectPage(tenant).toContainText(HOSTILE_NAME);
    await expectPage(page.locator("#tenants img, #tenants script")).toHaveCount(0);
    await tenant.click();
    await page.locator("#page-nav").getByRole("button", { name: "Sessions" }).click();

    const row = page.locator(`#sessions tr[data-session="${sessionId}"]`);
    for (const cell of ["notes", keyId, record.protocolVersion, "smcp-e2e 1.0.0"]) await expectPage(row).toContainText(cell);
    await row.getByRole("button", { name: `Open session ${sessionId}` }).click();

    const requests = page.locator("#requests tbody tr");
    const events = page.locator("#events tbody tr");
    await expectPage(requests.filter({ hasText: "tools/call" }).filter({ hasText: "add_note" })).toHaveCount(1);
    await expectPage(events.filter({ hasText: `Added note ${noteId}` })).toHaveCount(1);

    // A new call appears without a reload, appended once after the rows already there.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await client.callTool({ name: "list_notes", arguments: {} });
    await expectPage(requests.filter({ hasText: "list_notes" })).toHaveCount(1);
    await expectPage(requests.last()).toContainText("list_notes");
    await expectPage(events.last()).toContainText("from the SDK client");
    await expectPage(requests.filter({ hasText: "add_note" })).toHaveCount(1);
    await expectPage(events.filter({ hasText: `Added note ${noteId}` })).toHaveCount(1);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // End it from the page, after the confirm.
    const confirmed = new Promise<string>((resolve) =>
      page.once("dialog", (dialog) => {
        resolve(dialog.message());
        void dialog.accept();
      }),
    );
    await page.getByRole("button", { name: "End session" }).click();
    expect(await confirmed).toContain(sessionId);
    await expectPage(page.getByRole("status")).toContainText(`Session ${sessionId} ended`);
    await expectPage(page.locator("#detail-state")).toContainText("ended");
    await expectPage(row).toHaveCount(0);
    await expectPage(page.locator("#sessions-note")).toContainText("No live sessions");
    await expect(client.callTool({ name: "list_notes", arguments: {} })).rejects.toThrow();

    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it("platform:grants platform:dashboard — lists the tenant's OAuth grants (client name as text) and revokes one: its session ends and its token stops working", async () => {
    const grant = await oauthGrant(platform.url, "dash", "notes", key, HOSTILE_CLIENT);
    const { client, transport } = await platform.connect("dash", "notes", grant.accessToken);
    const { grants } = await platform.admin().call("GET", "/tenants/dash/grants");
    const listed = grants.find((g: { client: { id: string } }) => g.client.id === grant.clientId);
    expect(listed).toMatchObject({ client: { name: HOSTILE_CLIENT }, approver: { keyId }, server: "notes" });

    const page = await openDashboard(ADMIN_TOKEN);
    await page.locator("#tenants").getByRole("button", { name: /^dash/ }).click();
    const nav = page.locator("#page-nav");
    await nav.getByRole("button", { name: "Sessions" }).click();
    const session = page.locator(`#sessions tr[data-session="${transport.sessionId}"]`);
    await expectPage(session).toHaveCount(1);
    await nav.getByRole("button", { name: "OAuth grants" }).click();
    const row = page.locator(`#grants tr[data-grant="${listed.id}"]`);
    for (const cell of [listed.id, HOSTILE_CLIENT, grant.clientId, keyId, "notes"]) await expectPage(row).toContainText(cell);
    await expectPage(page.locator("#grants img, #grants script")).toHaveCount(0);

    const confirmed = new Promise<string>((resolve) =>
      page.once("dialog", (dialog) => {
        resolve(dialog.message());
        void dialog.accept();
      }),
    );
    await row.getByRole("button", { name: `Revoke grant ${listed.id}` }).click();
    expect(await confirmed).toContain(listed.id);
    await expectPage(page.getByRole("status")).toContainText(`Grant ${listed.id} revoked: 1 session(s) ended`);
    await expectPage(row).toHaveCount(0);
    await expectPage(page.locator("#grants-note")).toContainText("No live OAuth grants");
    await nav.getByRole("button", { name: "Sessions" }).click();
    await expectPage(session).toHaveCount(0);
    await expect(client.callTool({ name: "list_notes", arguments: {} })).rejects.toThrow();
    expect((await platform.admin().call("GET", "/tenants/dash/grants")).grants).toEqual([]);

    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it("platform:dashboard — calls nothing outside its own origin and breaks none of its own policy", () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${platform.url}/`))).toEqual([]);
    expect(violations).toEqual([]);
  });
});
