/**
 * The admin dashboard's markup and style, as string modules. The page is a static
 * shell: it holds no data and no secret, and every value it later shows is put in
 * by the client script with `textContent`. Its one inline style and one inline
 * script are allowed by hash in the Content-Security-Policy (see handler.ts), so
 * nothing else can run or load here.
 */
import { CLIENT_SCRIPT } from "./client";

export const STYLE = `
:root { color-scheme: light dark; font: 14px/1.4 system-ui, sans-serif; }
body { margin: 0 auto; max-width: 1200px; padding: 0 1rem 2rem; }
header { display: flex; align-items: center; gap: 1rem; border-bottom: 1px solid #8884; }
header h1 { font-size: 1.25rem; flex: 1; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
h3 { font-size: .95rem; margin: 1rem 0 .3rem; }
[hidden] { display: none !important; }
.alert { color: #c0262d; font-weight: 600; }
.notice { color: #1a7f37; }
.muted { opacity: .7; }
.grid { display: grid; grid-template-columns: minmax(12rem, 1fr) 3fr; gap: 0 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
ul.tenants { list-style: none; padding: 0; margin: 0; }
ul.tenants button { width: 100%; text-align: left; margin: .1rem 0; }
button[aria-pressed="true"], tr[aria-selected="true"] { outline: 2px solid #2f6fde; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #8883; padding: .2rem .4rem; text-align: left; vertical-align: top; }
code, .mono { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
.scroll { max-height: 24rem; overflow: auto; }
`;

export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>SMCP admin</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>SMCP admin</h1>
  <button id="signout" type="button" hidden>Sign out</button>
</header>
<p id="notice" class="notice" role="status"></p>
<p id="error" class="alert" role="alert"></p>

<section id="login" aria-labelledby="login-title">
  <h2 id="login-title">Sign in</h2>
  <form id="login-form">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="off" required>
    <button type="submit">Sign in</button>
  </form>
  <p class="muted">The token stays in this tab's sessionStorage and is sent only to this origin's /admin/v1.</p>
</section>

<main id="app" hidden>
  <section aria-labelledby="health-title">
    <h2 id="health-title">Platform health</h2>
    <dl id="health"></dl>
  </section>
  <div class="grid">
    <section aria-labelledby="tenants-title">
      <h2 id="tenants-title">Tenants</h2>
      <ul id="tenants" class="tenants"></ul>
    </section>
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p id="sessions-note" class="muted">Choose a tenant.</p>
      <table id="sessions" aria-labelledby="sessions-title" hidden>
        <thead><tr><th>Session</th><th>Server</th><th>Key</th><th>Protocol</th><th>Client</th><th>Created</th><th>Last activity</th><th>Expires</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </div>
  <section aria-labelledby="grants-title">
    <h2 id="grants-title">OAuth grants</h2>
    <p id="grants-note" class="muted">Choose a tenant.</p>
    <table id="grants" aria-labelledby="grants-title" hidden>
      <thead><tr><th>Grant</th><th>Client</th><th>Approved by</th><th>Server</th><th>Created</th><th>Last used (hour)</th><th>Expires</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="detail" aria-labelledby="detail-title" hidden>
    <h2 id="detail-title">Session <span id="detail-id" class="mono"></span></h2>
    <p id="detail-state"></p>
    <dl id="detail-info"></dl>
    <p><button id="end" type="button">End session</button></p>
    <h3 id="requests-title">Requests</h3>
    <div class="scroll"><table id="requests" aria-labelledby="requests-title">
      <thead><tr><th>#</th><th>At</th><th>Method</th><th>Tool</th><th>Status</th><th>ms</th><th>Error</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <h3 id="events-title">SSE events</h3>
    <div class="scroll"><table id="events" aria-labelledby="events-title">
      <thead><tr><th>#</th><th>At</th><th>Stream</th><th>Kind</th><th>Message</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
</main>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
