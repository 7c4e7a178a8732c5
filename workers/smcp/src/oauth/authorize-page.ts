/**
 * The HTML of the `/authorize` step: the consent form and the error page.
 *
 * Everything a client chose (its name, redirect URI, state) is inserted as escaped
 * text or attribute values; the page has no script and loads nothing. The CSP allows
 * only the page's own inline style (by hash), form posts to this origin and to the
 * client's redirect target (the POST answers with a redirect there), and no framing.
 */
import { base64, isLoopbackHost, sha256 } from "@smcp/runtime";

export interface ConsentView {
  /** Self-asserted by the client at registration: shown as such. */
  clientName: string | null;
  clientId: string;
  /** The host that published the client's metadata document; null for a registered client. */
  documentHost: string | null;
  /** Every redirect URI the client declared (its document's or its registration's). */
  redirectUris: string[];
  redirectUri: string;
  tenant: string;
  server: string;
  resource: string;
  /** The authorization request, carried through the form unchanged. */
  hidden: [name: string, value: string][];
  /** The tenant's identity provider, when it has one: the page offers its sign-in, and the key field only if the tenant allows both. */
  signIn?: { issuer: string; startUrl: string; keyApproval: boolean } | null;
  error?: string;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}code{background:#eef0f4;padding:0 .25em;border-radius:3px;word-break:break-all}
.note{color:#5b6475;font-size:.9rem}.warn{background:#fff6db;padding:.5rem .75rem;border-radius:4px}
.error{background:#fde8e8;color:#8a1c1c;padding:.5rem .75rem;border-radius:4px}
label{display:block;font-weight:600;margin-top:1rem}input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
.actions{display:flex;gap:.75rem;margin-top:1rem}button{padding:.5rem 1.25rem;font:inherit;border-radius:4px;border:1px solid #1d2330;background:#fff}
button[value=approve]{background:#1d2330;color:#fff}
a.signin{display:inline-block;margin-top:1rem;padding:.5rem 1.25rem;border-radius:4px;background:#1d2330;color:#fff;text-decoration:none}`;

let styleHash: Promise<string> | undefined;

/** The consent form: who asks, for which MCP URL, where the token goes, and the key field. */
export async function consentPage(view: ConsentView, status = 200): Promise<Response> {
  const redirect = new URL(view.redirectUri);
  const redirectHost = redirect.protocol === "http:" || redirect.protocol === "https:" ? redirect.host : redirect.protocol;
  const loopback = isLoopbackHost(redirect.hostname);
  const name = view.clientName ? `<strong>${esc(view.clientName)}</strong>` : `An unnamed client (<code>${esc(view.clientId)}</code>)`;
  const identity = view.documentHost
    ? `<p class="note">This client identifies itself with the metadata document <code>${esc(view.clientId)}</code>, published by <strong>${esc(view.documentHost)}</strong>. It may send you back to: ${view.redirectUris.map((uri) => `<code>${esc(uri)}</code>`).join(", ")}.</p>`
    : "";
  const body = `<h1>Authorize an MCP client</h1>
<p>${name} <span class="note">(the name is given by the client itself and is not verified)</span>
asks to use the MCP server <code>${esc(view.server)}</code> of tenant <code>${esc(view.tenant)}</code>:</p>
<p><code>${esc(view.resource)}</code></p>
${identity}
<p>If you approve, an access token for this one MCP server goes to <strong>${esc(redirectHost)}</strong>.</p>
${loopback ? `<p class="warn">That is an app on this computer. Approve only if you just started connecting from it.</p>` : ""}
${view.error ? `<p class="error" role="alert">${esc(view.error)}</p>` : ""}
${view.signIn ? signInBlock(view.signIn) : ""}
<form method="post" action="/authorize">
${view.hidden.map(([n, v]) => `<input type="hidden" name="${esc(n)}" value="${esc(v)}">`).join("\n")}
${!view.signIn || view.signIn.keyApproval ? keyField(view.tenant, !view.signIn) : ""}
<div class="actions">${!view.signIn || view.signIn.keyApproval ? `<button type="submit" name="decision" value="approve">${view.signIn ? "Approve with the key" : "Approve"}</button>\n` : ""}<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></div>
</form>`;
  return htmlResponse(`Authorize access to ${view.tenant}/${view.server}`, body, status, formActionSource(redirect));
}

function signInBlock(signIn: NonNullable<ConsentView["signIn"]>): string {
  return `<p>This tenant approves clients by signing in with its identity provider <strong>${esc(providerName(signIn.issuer))}</strong> (<code>${esc(signIn.issuer)}</code>).</p>
<p><a class="signin" href="${esc(signIn.startUrl)}">Sign in with ${esc(providerName(signIn.issuer))}</a></p>
${signIn.keyApproval ? `<p class="note">Or approve with an API key of the tenant:</p>` : ""}`;
}

function keyField(tenant: string, autofocus: boolean): string {
  return `<label for="api_key">API key of tenant <code>${esc(tenant)}</code></label>
<input id="api_key" name="api_key" type="password" autocomplete="off" spellcheck="false" required${autofocus ? " autofocus" : ""}>
<p class="note">The key proves you may use this tenant. It is checked and forgotten: the client never sees it.</p>`;
}

/** What the page calls a provider: its issuer's host (the issuer is an https URL, checked when it was configured). */
const providerName = (issuer: string) => (URL.canParse(issuer) ? new URL(issuer).host : issuer);

/**
 * The tenant's identity provider could not be used (down, too slow, or answering
 * something that is not what OpenID Connect says): a page that says so and names it.
 */
export function providerUnavailablePage(issuer: string, detail: string): Promise<Response> {
  const body = `<h1>The identity provider could not be reached</h1>
<p class="error" role="alert">Signing in with <strong>${esc(providerName(issuer))}</strong> (<code>${esc(issuer)}</code>) is not possible right now: ${esc(detail)}.</p>
<p>Nothing was approved. Try again in a while; if it keeps failing, tell the tenant's administrator.</p>`;
  return htmlResponse("Identity provider unavailable", body, 502, null);
}

/** A sign-in that ended without access (refused, outsider, replayed): its own heading, nothing approved. */
export function signInRefusedPage(message: string, status: number): Promise<Response> {
  const body = `<h1>Not signed in</h1>\n<p class="error" role="alert">${esc(message)}</p>\n<p>The client was not given access; you can close this page.</p>`;
  return htmlResponse("Sign-in refused", body, status, null);
}

/** An error shown on our own page, for requests whose client or redirect URI is not (yet) trusted. */
export function errorPage(message: string, status: number, headers: Record<string, string> = {}): Promise<Response> {
  return htmlResponse("Authorization failed", `<h1>Authorization failed</h1>\n<p class="error" role="alert">${esc(message)}</p>`, status, null, headers);
}

async function htmlResponse(
  title: string,
  body: string,
  status: number,
  redirectSource: string | null,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  styleHash ??= sha256Base64(STYLE);
  const csp = [
    "default-src 'none'",
    `style-src '${await styleHash}'`,
    redirectSource === null ? "form-action 'none'" : `form-action 'self' ${redirectSource}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  const html = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · SMCP</title>
<style>${STYLE}</style>
<main>
${body}
</main>
</html>`;
  return new Response(html, {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": csp,
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      ...extraHeaders,
    },
  });
}

/** The CSP source of the client's redirect target: its origin, or its private-use scheme. */
function formActionSource(redirect: URL): string {
  return redirect.protocol === "http:" || redirect.protocol === "https:" ? redirect.origin : redirect.protocol;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function sha256Base64(text: string): Promise<string> {
  return `sha256-${base64(await sha256(text))}`;
}
