/**
 * `GET /admin`: serves the dashboard page. The page is public and static (it holds
 * no data; the admin API behind it checks the token on every call), so this only
 * sets the headers that keep it shut: a Content-Security-Policy that allows the
 * page's own inline script and style by hash, fetches to this origin and nothing
 * else (no external resource, no frame, no form target, no base URL), Trusted
 * Types with no policy (so no markup can be injected from a string), and no
 * caching, sniffing, framing or referrer.
 */
import { base64, sha256 } from "@smcp/runtime";
import { PAGE, STYLE } from "./page";
import { CLIENT_SCRIPT } from "./client/index";

async function hashSource(text: string): Promise<string> {
  return `'sha256-${base64(await sha256(text))}'`;
}

/** The policy for exactly this page's inline script and style; computed once per isolate. */
let policy: Promise<string> | undefined;
export const dashboardPolicy = (): Promise<string> =>
  (policy ??= Promise.all([hashSource(CLIENT_SCRIPT), hashSource(STYLE)]).then(([script, style]) =>
    [
      "default-src 'none'",
      `script-src ${script}`,
      `style-src ${style}`,
      "connect-src 'self'",
      "img-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
      "trusted-types 'none'",
    ].join("; "),
  ));

export async function serveDashboard(): Promise<Response> {
  return new Response(PAGE, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": await dashboardPolicy(),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "no-referrer",
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Resource-Policy": "same-origin",
    },
  });
}
