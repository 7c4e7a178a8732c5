/**
 * The dashboard's traffic charts against a day of rollups, in a real Chromium. The last
 * minutes are real traffic (the official SDK client calling a tool); the rest of the day
 * is written into the tenant object's own `metrics_minutes` rows while `wrangler dev` is
 * stopped (its SQLite file, as the platform keeps it), then the platform restarts on the
 * same state. The series API must sum exactly those minutes per step, and every point
 * the page draws must be the series API's number for its step.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sparticuz from "@sparticuz/chromium";
import { expect as playwrightExpect } from "@playwright/test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, SCREENSHOTS, consoleProblems } from "./chromium";
import { ADMIN_TOKEN, Platform } from "./platform";

const expectPage = playwrightExpect.configure({ timeout: 15_000 });
const TENANT = "charts";
const MINUTE = 60_000;
const STEP_24H = 900_000;
/** Real calls made through the SDK client before the day is seeded. */
const CALLS = 6;

type Point = { t: string; requests: number; errors: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
type Series = { range: string; stepSeconds: number; points: Point[] };

const platform = new Platform();
const profile = mkdtempSync(path.join(tmpdir(), "smcp-dashboard-charts-"));
let browser: BrowserContext;
let page: Page;
/** Seeded requests and errors by the start of their 24-hour step (ms). */
const seeded = new Map<number, { requests: number; errors: number }>();
/** The real traffic, by the start of its minute, as the 1-hour series reported it before the seeding. */
let real: Point[] = [];
let consoleErrors: string[] = [];

async function series(range: "1h" | "24h"): Promise<Series> {
  return platform.admin().call("GET", `/tenants/${TENANT}/servers/notes/series?range=${range}`);
}

/** Waits (up to 30 s, checking every 250 ms) for a condition the platform reaches on its own. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`waited 30 s for: ${what}`);
}

/** Every SQLite file under `dir`. */
function sqliteFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sqliteFiles(full);
    return name.endsWith(".sqlite") ? [full] : [];
  });
}

/** node:sqlite, without its one-time "experimental feature" notice in the test log. */
async function openDatabase(file: string) {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("SQLite is an experimental feature")) return;
    return (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const { DatabaseSync } = await import("node:sqlite");
    return new DatabaseSync(file);
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * Writes a minute row of `notes` for every minute of the last day but the last ten (the
 * real traffic's): 1 to 5 requests, every third minute one of them a tool error, all
 * between 5 and 10 ms.
 */
async function seedDay(now: number): Promise<void> {
  const files = [];
  for (const file of sqliteFiles(platform.stateDir)) {
    const db = await openDatabase(file);
    const has = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'metrics_minutes'").get() as { n: number };
    if (has.n > 0) files.push(db);
    else db.close();
  }
  expect(files, "exactly one tenant object keeps metrics").toHaveLength(1);
  const db = files[0]!;
  const insert = db.prepare("INSERT INTO metrics_minutes (minute, server, method, tool, requests, e_tool, b10, sum_ms) VALUES (?, 'notes', 'tools/call', 'seeded', ?, ?, ?, ?)");
  const current = now - (now % MINUTE);
  db.exec("BEGIN");
  for (let k = 10; k < 24 * 60 - 15; k++) {
    const minute = current - k * MINUTE;
    const requests = 1 + (k % 5);
    const errors = k % 3 === 0 ? 1 : 0;
    insert.run(minute, requests, errors, requests, requests * 7);
    const step = minute - (minute % STEP_24H);
    const sum = seeded.get(step) ?? { requests: 0, errors: 0 };
    seeded.set(step, { requests: sum.requests + requests, errors: sum.errors + errors });
  }
  db.exec("COMMIT");
  db.close();
}

beforeAll(async () => {
  await platform.start();
  await platform.tenant(TENANT);
  const { client, transport } = await platform.connect(TENANT, "notes", (await platform.admin().createKey(TENANT, "traffic")).key);
  for (let i = 0; i < CALLS; i++) await client.callTool({ name: "list_notes", arguments: {} });
  // Ended, the session has sent its final counts: nothing more of it can reach the series later.
  await transport.terminateSession();
  await client.close();
  await until("the session is gone from the index", async () => (await platform.admin().call("GET", `/tenants/${TENANT}/sessions`)).sessions.length === 0);
  await until("the series counts the calls", async () => (await series("1h")).points.reduce((n, p) => n + p.requests, 0) >= CALLS);
  real = (await series("1h")).points.filter((p) => p.requests > 0);

  await platform.stop();
  await seedDay(Date.now());
  await platform.start();

  browser = await chromium.launchPersistentContext(profile, { executablePath: await sparticuz.executablePath(), headless: true, args: CHROMIUM_ARGS });
  consoleErrors = consoleProblems(browser);
  page = await browser.newPage();
  await page.goto(`${platform.url}/admin`);
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#tenants").getByRole("button", { name: new RegExp(`^${TENANT}`) }).click();
  await page.locator("#server-list").getByRole("button", { name: "Server notes" }).click();
});

afterAll(async () => {
  await browser?.close();
  await platform.dispose();
  rmSync(profile, { recursive: true, force: true });
});

/** What one line of one chart draws: each point's step and value. */
async function drawn(range: string, metric: string, line: string): Promise<{ t: string; v: number }[]> {
  const dots = page.locator(`svg.chart[data-range="${range}"][data-metric="${metric}"] g[data-line="${line}"] circle`);
  return dots.evaluateAll((nodes) => nodes.map((n) => ({ t: n.getAttribute("data-t")!, v: Number(n.getAttribute("data-v")) })));
}

/** The points a line should draw from the series API's answer (steps without a value draw none). */
function expected(s: Series, value: (p: Point) => number | null): { t: string; v: number }[] {
  return s.points.flatMap((p) => {
    const v = value(p);
    return v === null ? [] : [{ t: p.t, v }];
  });
}

async function checkCharts(range: "1h" | "24h"): Promise<Series> {
  await expectPage(page.locator(`svg.chart[data-range="${range}"]`)).toHaveCount(3);
  const s = await series(range);
  const step = s.stepSeconds;
  expect(await drawn(range, "requests", "requests")).toEqual(expected(s, (p) => (p.requests * 60) / step));
  expect(await drawn(range, "errors", "errors")).toEqual(expected(s, (p) => (p.requests > 0 ? (100 * p.errors) / p.requests : 0)));
  expect(await drawn(range, "latency", "p50")).toEqual(expected(s, (p) => p.p50Ms));
  expect(await drawn(range, "latency", "p95")).toEqual(expected(s, (p) => p.p95Ms));
  expect(await drawn(range, "latency", "p99")).toEqual(expected(s, (p) => p.p99Ms));
  return s;
}

describe("dashboard charts", () => {
  it("dashboard:charts — the last day: the series API sums the seeded minutes and the real calls per 15-minute step, and every drawn point is its number", async () => {
    await page.locator("#ranges").getByRole("button", { name: "Last day" }).click();
    const day = await checkCharts("24h");
    expect(day.points).toHaveLength(96);
    for (const p of day.points) {
      const t = Date.parse(p.t);
      const fromReal = real.filter((r) => Date.parse(r.t) - (Date.parse(r.t) % STEP_24H) === t);
      const want = seeded.get(t) ?? { requests: 0, errors: 0 };
      expect({ t: p.t, requests: p.requests, errors: p.errors }).toEqual({
        t: p.t,
        requests: want.requests + fromReal.reduce((n, r) => n + r.requests, 0),
        errors: want.errors + fromReal.reduce((n, r) => n + r.errors, 0),
      });
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "charts-day.png"), fullPage: true });
    // A whole day is drawn: the steps before the seeded span are the only empty ones.
    expect(day.points.filter((p) => p.requests > 0).length).toBeGreaterThanOrEqual(94);
    // Seeded minutes took 5 to 10 ms: every step's median is in that bucket.
    for (const p of day.points.filter((q) => seeded.has(Date.parse(q.t)) && !real.some((r) => Date.parse(r.t) - (Date.parse(r.t) % STEP_24H) === Date.parse(q.t)))) {
      expect(p.p50Ms).toBeGreaterThanOrEqual(5);
      expect(p.p50Ms).toBeLessThanOrEqual(10);
    }
  });

  it("dashboard:charts — the last hour: the real calls are drawn in their minute, point for point with the series API", async () => {
    await page.locator("#ranges").getByRole("button", { name: "Last hour" }).click();
    const hour = await checkCharts("1h");
    expect(hour.points).toHaveLength(60);
    expect(hour.points.reduce((n, p) => n + p.requests, 0)).toBeGreaterThanOrEqual(CALLS);
    expect(consoleErrors).toEqual([]);
  });
});
