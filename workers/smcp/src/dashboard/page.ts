/**
 * The admin dashboard's markup and style, as string modules. The page is a static
 * shell: it holds no data and no secret, and every value it later shows is put in
 * by the client script with `textContent`. Its one inline style and one inline
 * script are allowed by hash in the Content-Security-Policy (see handler.ts), so
 * nothing else can run or load here.
 */
import { CLIENT_SCRIPT } from "./client/index";

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
ul.tabs { list-style: none; padding: 0; margin: .4rem 0; display: flex; flex-wrap: wrap; gap: .3rem; }
.reveal { border: 2px solid #1a7f37; padding: .2rem .8rem; margin: .6rem 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: .6rem 1rem; }
figure.chart-box { margin: 0; }
figcaption { font-weight: 600; font-size: .9rem; }
figcaption .key { font-weight: 400; margin-left: .5rem; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: #8884; stroke-width: 1; }
svg.chart .axis { font-size: 9px; fill: currentColor; opacity: .7; }
svg.chart polyline { stroke-width: 1.5; }
.line-requests { stroke: #2f6fde; fill: #2f6fde; color: #2f6fde; }
.line-errors { stroke: #c0262d; fill: #c0262d; color: #c0262d; }
.line-p50 { stroke: #1a7f37; fill: #1a7f37; color: #1a7f37; }
.line-p95 { stroke: #b35900; fill: #b35900; color: #b35900; }
.line-p99 { stroke: #8a3ffc; fill: #8a3ffc; color: #8a3ffc; }
svg.chart g polyline { fill: none; }
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
  <section id="platform" aria-labelledby="health-title">
    <h2 id="health-title">Platform health</h2>
    <dl id="health"></dl>
  </section>
  <div class="grid">
    <section aria-labelledby="tenants-title">
      <h2 id="tenants-title">Tenants</h2>
      <ul id="tenants" class="tenants"></ul>
    </section>
    <div>
      <h2 id="tenant-title"></h2>
      <p id="tenant-note" class="muted">Choose a tenant.</p>
      <nav id="tenant-pages" aria-label="Tenant pages" hidden>
        <ul id="page-nav" class="tabs">
          <li><button type="button" data-page="servers" aria-pressed="true">Servers</button></li>
          <li><button type="button" data-page="sessions" aria-pressed="false">Sessions</button></li>
          <li><button type="button" data-page="keys" aria-pressed="false">Keys</button></li>
          <li><button type="button" data-page="grants" aria-pressed="false">OAuth grants</button></li>
          <li><button type="button" data-page="tasks" aria-pressed="false">Tasks</button></li>
          <li><button type="button" data-page="audit" aria-pressed="false">Audit log</button></li>
        </ul>
      </nav>

      <section id="page-servers" data-page="servers" aria-labelledby="servers-title" hidden>
        <h2 id="servers-title">Servers</h2>
        <p id="servers-note" class="muted"></p>
        <ul id="server-list" class="tabs"></ul>
        <div id="server-detail" hidden>
          <h3 id="server-health-title">Health</h3>
          <dl id="server-health"></dl>
          <h3 id="server-errors-title">Recent errors</h3>
          <p id="server-errors-note" class="muted"></p>
          <table id="server-errors" aria-labelledby="server-errors-title" hidden>
            <thead><tr><th>At</th><th>Version</th><th>Kind</th><th>Message</th></tr></thead>
            <tbody></tbody>
          </table>
          <h3 id="traffic-title">Traffic</h3>
          <ul id="ranges" class="tabs" aria-label="Time range">
            <li><button type="button" data-range="1h" aria-pressed="true">Last hour</button></li>
            <li><button type="button" data-range="24h" aria-pressed="false">Last day</button></li>
          </ul>
          <p id="charts-note" class="muted"></p>
          <div id="charts" class="charts"></div>
          <section id="deployments-section" aria-labelledby="deployments-title" hidden>
            <h3 id="deployments-title">Deployments</h3>
            <p id="deployments-note" class="muted"></p>
            <table id="deployments" aria-labelledby="deployments-title" hidden>
              <thead><tr><th>Version</th><th>Kind</th><th>Status</th><th>Size</th><th>Created</th><th>Calls</th><th>Errors</th><th></th></tr></thead>
              <tbody></tbody>
            </table>
          </section>
          <section id="secrets-section" aria-labelledby="secrets-title" hidden>
            <h3 id="secrets-title">Secrets</h3>
            <p class="muted">Names only: values are write-only and never leave the platform.</p>
            <p id="secrets-note" class="muted"></p>
            <table id="secrets" aria-labelledby="secrets-title" hidden>
              <thead><tr><th>Name</th><th>Created</th><th>Updated</th></tr></thead>
              <tbody></tbody>
            </table>
          </section>
          <h3 id="policy-title">Tool policy</h3>
          <p id="policy-note" class="muted"></p>
          <dl id="policy"></dl>
        </div>
      </section>

      <section id="page-sessions" data-page="sessions" aria-labelledby="sessions-title" hidden>
        <h2 id="sessions-title">Sessions</h2>
        <p id="sessions-note" class="muted"></p>
        <table id="sessions" aria-labelledby="sessions-title" hidden>
          <thead><tr><th>Session</th><th>Server</th><th>Key</th><th>Protocol</th><th>Client</th><th>Created</th><th>Last activity</th><th>Expires</th><th></th></tr></thead>
          <tbody></tbody>
        </table>
        <section id="detail" aria-labelledby="detail-title" hidden>
          <h3 id="detail-title">Session <span id="detail-id" class="mono"></span></h3>
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
      </section>

      <section id="page-keys" data-page="keys" aria-labelledby="keys-title" hidden>
        <h2 id="keys-title">API keys</h2>
        <form id="key-form">
          <label for="key-label">New key's label</label>
          <input id="key-label" name="label" maxlength="100" autocomplete="off">
          <button type="submit">Create key</button>
        </form>
        <div id="new-key" class="reveal" role="status" hidden>
          <p>New key <span id="new-key-id" class="mono"></span>. Copy its secret now: it is shown only this once.</p>
          <p><code id="new-key-value"></code></p>
          <button id="new-key-done" type="button">Done</button>
        </div>
        <p id="keys-note" class="muted"></p>
        <table id="keys" aria-labelledby="keys-title" hidden>
          <thead><tr><th>Key</th><th>Label</th><th>Created</th><th>Status</th><th></th></tr></thead>
          <tbody></tbody>
        </table>
      </section>

      <section id="page-grants" data-page="grants" aria-labelledby="grants-title" hidden>
        <h2 id="grants-title">OAuth grants</h2>
        <p id="grants-note" class="muted"></p>
        <table id="grants" aria-labelledby="grants-title" hidden>
          <thead><tr><th>Grant</th><th>Client</th><th>Approved by</th><th>Server</th><th>Created</th><th>Last used (hour)</th><th>Expires</th><th></th></tr></thead>
          <tbody></tbody>
        </table>
      </section>

      <section id="page-tasks" data-page="tasks" aria-labelledby="tasks-title" hidden>
        <h2 id="tasks-title">Tasks</h2>
        <p id="tasks-note" class="muted"></p>
        <table id="tasks" aria-labelledby="tasks-title" hidden>
          <thead><tr><th>Task</th><th>Server</th><th>Owner</th><th>Status</th><th>Created</th><th>Expires</th><th></th></tr></thead>
          <tbody></tbody>
        </table>
      </section>

      <section id="page-audit" data-page="audit" aria-labelledby="audit-title" hidden>
        <h2 id="audit-title">Audit log</h2>
        <div id="audit-verdict"></div>
        <p id="audit-note" class="muted"></p>
        <div class="scroll"><table id="audit" aria-labelledby="audit-title" hidden>
          <thead><tr><th>#</th><th>At</th><th>Actor</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead>
          <tbody></tbody>
        </table></div>
      </section>
    </div>
  </div>
</main>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
