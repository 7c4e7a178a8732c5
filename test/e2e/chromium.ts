/**
 * How the dashboard tests start Chromium: the build shipped inside the npm package
 * `@sparticuz/chromium` (unpacked on first use), headless, with nothing of its own
 * phoning home, so every request the tests see is the page's.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext } from "playwright-core";

/** Where the dashboard tests write each page's screenshot (gitignored: every run writes them afresh). */
export const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Collects every console error and CSP or Trusted Types complaint of the pages in
 * `context`, and every uncaught exception of `page`s added later. Chromium logs any 4xx
 * answer of a fetch as an error; `expected404` names the API paths whose 404 is an
 * answer the page shows (a server without a tool policy), not a fault.
 */
export function consoleProblems(context: BrowserContext, expected404: RegExp = /\/policy$/): string[] {
  const problems: string[] = [];
  context.on("console", (m) => {
    if (m.type() !== "error" && !/Content Security Policy|Trusted ?(Types?|HTML|Script)/i.test(m.text())) return;
    const url = m.location().url;
    if (/Failed to load resource: the server responded with a status of 404/.test(m.text()) && expected404.test(url.split("?")[0]!)) return;
    problems.push(`${m.text()} (${url})`);
  });
  context.on("page", (page) => page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`)));
  return problems;
}
