/**
 * The dashboard's browser script, as a string module inlined into the page. It
 * talks only to this origin's `/admin/v1` with the token from sessionStorage, and
 * polls: one refresh every few seconds of health, tenants, the chosen tenant's
 * sessions and OAuth grants (each with a revoke button) and the open session, whose event and request logs are followed with
 * `after` cursors so that only new rows are appended.
 *
 * Tenant data may be hostile: every value reaches the DOM as a text node
 * (`textContent`, `append(string)`) or an attribute value, never as markup. The
 * page's CSP also requires Trusted Types with no policy, so an `innerHTML`
 * assignment would throw rather than parse.
 *
 * Plain ES2020 in a raw string: no backticks, no template substitutions.
 */
export const CLIENT_SCRIPT = String.raw`
"use strict";
(function () {
  var TOKEN_KEY = "smcp-admin-token";
  var POLL_MS = 2000;
  var PAGE = 100;
  var byId = function (id) { return document.getElementById(id); };

  /** The open session: its own object, so a late answer for another one is dropped. */
  var state = { tenant: null, view: null, seen: {} };
  var timer = 0, running = null, rerun = false;

  // ---- DOM helpers: text only ----
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) for (var k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }
  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) { tr.append(c instanceof Node ? wrap(c) : el("td", c)); });
    return tr;
  }
  function wrap(node) { var td = document.createElement("td"); td.append(node); return td; }
  function pairs(dl, list) {
    dl.replaceChildren();
    list.forEach(function (p) { dl.append(el("dt", p[0]), el("dd", p[1])); });
  }
  function when(ms) { return typeof ms === "number" && ms > 0 ? new Date(ms).toLocaleString() : "-"; }
  function say(id, text) { byId(id).textContent = text || ""; }
  /** Runs render only when the data differs from what was last rendered under key. */
  function changed(key, data) {
    var json = JSON.stringify(data);
    if (state.seen[key] === json) return false;
    state.seen[key] = json;
    return true;
  }

  // ---- the admin API ----
  function ApiError(status, code, message, token) {
    this.status = status; this.code = code; this.message = message; this.token = token;
  }
  async function api(method, path) {
    var token = sessionStorage.getItem(TOKEN_KEY) || "";
    var res = await fetch("/admin/v1" + path, { method: method, headers: { authorization: "Bearer " + token }, cache: "no-store" });
    var body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) {
      var err = (body && body.error) || {};
      throw new ApiError(res.status, err.code || "http_" + res.status, err.message || "HTTP " + res.status, token);
    }
    return body;
  }
  var seg = encodeURIComponent;
  function tenantPath() { return "/tenants/" + seg(state.tenant); }
  function sessionPath(view) { return tenantPath() + "/sessions/" + seg(view.id); }

  // ---- sign in and out ----
  function signedIn() { return !!sessionStorage.getItem(TOKEN_KEY); }
  function showApp(on) {
    byId("login").hidden = on;
    byId("app").hidden = !on;
    byId("signout").hidden = !on;
  }
  function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    say("error"); say("notice");
    state.seen = {};
    showApp(true);
    refresh();
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    state.tenant = null; state.view = null; state.seen = {};
    ["health", "tenants", "detail-info"].forEach(function (id) { byId(id).replaceChildren(); });
    ["sessions", "grants"].forEach(function (id) { byId(id).tBodies[0].replaceChildren(); byId(id).hidden = true; });
    byId("detail").hidden = true;
    showApp(false);
    say("notice");
    say("error", message);
    byId("token").value = "";
    byId("token").focus();
  }

  // ---- polling ----
  function refresh() {
    clearTimeout(timer);
    if (running) { rerun = true; return; }
    running = poll().catch(fail).finally(function () {
      running = null;
      if (!signedIn()) return;
      if (rerun) { rerun = false; refresh(); } else timer = setTimeout(refresh, POLL_MS);
    });
  }
  async function poll() {
    if (!signedIn()) return;
    await Promise.all([loadHealth(), loadTenants(), loadSessions(), loadGrants(), loadDetail(state.view)]);
    say("error");
  }
  function fail(e) {
    if (e instanceof ApiError && e.status === 401) {
      if (e.token === sessionStorage.getItem(TOKEN_KEY)) signOut("The admin token was refused (401 unauthorized). Check SMCP_ADMIN_TOKEN and sign in again.");
      return;
    }
    say("error", e instanceof ApiError ? e.message + " (" + e.code + ")" : "Cannot reach the admin API: " + (e && e.message));
  }

  // ---- health ----
  async function loadHealth() {
    var h = await api("GET", "/health");
    if (!changed("health", h)) return;
    var bySrv = Object.entries(h.sessions.byServer || {}).map(function (e) { return e[0] + ": " + e[1]; }).join(", ");
    pairs(byId("health"), [
      ["Status", h.ok ? "ok" : "degraded"],
      ["Version", h.version],
      ["Tenants", h.tenants],
      ["Live sessions", h.sessions.total + (bySrv ? " (" + bySrv + ")" : "")],
      ["Requests", h.requests.total + ", " + h.requests.errors + " errors (" + (h.requests.errorRate * 100).toFixed(1) + "%)"],
      ["Alarms", h.alarms.runs + " runs, " + h.alarms.failures + " failures, lag max " + h.alarms.lagMsMax + " ms, avg " + h.alarms.lagMsAvg + " ms"],
      ["Event logs", h.eventLog.bytes + " bytes"],
      ["Upstreams", h.upstreams ? h.upstreams.total + ", " + h.upstreams.unreachable + " unreachable" + (h.upstreams.unreachableServers.length ? " (" + h.upstreams.unreachableServers.join(", ") + ")" : "") : "-"],
    ]);
  }

  // ---- tenants ----
  async function loadTenants() {
    var body = await api("GET", "/tenants");
    var tenants = body.tenants;
    if (state.tenant && !tenants.some(function (t) { return t.id === state.tenant; })) chooseTenant(null);
    if (!changed("tenants", [tenants, state.tenant])) return;
    var list = byId("tenants");
    list.replaceChildren();
    if (!tenants.length) list.append(el("li", "No tenants yet.", { class: "muted" }));
    tenants.forEach(function (t) {
      var b = el("button", t.id, { type: "button", "aria-pressed": String(t.id === state.tenant) });
      if (t.name && t.name !== t.id) b.append(" ", el("span", t.name, { class: "muted" }));
      b.addEventListener("click", function () { chooseTenant(t.id); });
      var li = el("li");
      li.append(b);
      list.append(li);
    });
  }
  function chooseTenant(id) {
    if (state.tenant === id) return;
    state.tenant = id;
    closeSession();
    delete state.seen.sessions;
    delete state.seen.grants;
    byId("sessions").tBodies[0].replaceChildren();
    byId("grants").tBodies[0].replaceChildren();
    refresh();
  }

  // ---- sessions of the chosen tenant ----
  async function loadSessions() {
    var table = byId("sessions");
    if (!state.tenant) {
      table.hidden = true;
      say("sessions-note", "Choose a tenant.");
      return;
    }
    var tenant = state.tenant;
    var body;
    try {
      body = await api("GET", tenantPath() + "/sessions");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && tenant === state.tenant) return chooseTenant(null);
      throw e;
    }
    if (tenant !== state.tenant) return;
    var sessions = body.sessions;
    var openId = state.view && state.view.id;
    if (!changed("sessions", [tenant, sessions, openId])) return;
    say("sessions-note", sessions.length ? "" : "No live sessions for " + tenant + ".");
    table.hidden = !sessions.length;
    var rows = sessions.map(function (s) {
      var client = s.clientInfo ? (s.clientInfo.name || "?") + " " + (s.clientInfo.version || "") : "-";
      var open = el("button", "Open", { type: "button", "aria-label": "Open session " + s.id });
      open.addEventListener("click", function () { openSession(s); });
      var tr = row([el("code", s.id), s.server, s.keyId || "-", s.protocolVersion, client, when(s.createdAt), when(s.lastActivity), when(s.expiresAt), open]);
      tr.setAttribute("aria-selected", String(s.id === openId));
      tr.dataset.session = s.id;
      return tr;
    });
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
  }

  // ---- OAuth grants of the chosen tenant ----
  async function loadGrants() {
    var table = byId("grants");
    if (!state.tenant) {
      table.hidden = true;
      say("grants-note", "Choose a tenant.");
      return;
    }
    var tenant = state.tenant;
    var body;
    try {
      body = await api("GET", tenantPath() + "/grants?limit=" + PAGE);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && tenant === state.tenant) return;
      throw e;
    }
    if (tenant !== state.tenant) return;
    var grants = body.grants;
    if (!changed("grants", [tenant, grants, body.next])) return;
    var more = body.next !== null && body.next !== undefined ? "The first " + grants.length + " grants are shown; smcp grants ls " + tenant + " lists them all." : "";
    say("grants-note", grants.length ? more : "No live OAuth grants for " + tenant + ".");
    table.hidden = !grants.length;
    var rows = grants.map(function (g) {
      var client = g.client.name ? g.client.name + " (" + g.client.id + ")" : g.client.id;
      var revoke = el("button", "Revoke", { type: "button", "aria-label": "Revoke grant " + g.id });
      revoke.addEventListener("click", function () { revokeGrant(tenant, g, revoke); });
      var tr = row([el("code", g.id), client, g.approver.subject || g.approver.keyId || "-", g.server, when(g.createdAt), when(g.lastUsedAt), when(g.expiresAt), revoke]);
      tr.dataset.grant = g.id;
      return tr;
    });
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
  }
  async function revokeGrant(tenant, g, button) {
    if (!confirm("Revoke grant " + g.id + " of tenant " + tenant + " (client " + (g.client.name || g.client.id) + ")? Its tokens stop working and its sessions end now.")) return;
    button.disabled = true;
    try {
      var done = await api("DELETE", "/tenants/" + seg(tenant) + "/grants/" + seg(g.id));
      var failed = done.sessionsFailed.length ? "; " + done.sessionsFailed.length + " could not be ended yet (revoke again to retry)" : "";
      say("notice", "Grant " + g.id + " revoked: " + done.sessionsEnded + " session(s) ended" + failed + ".");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) say("notice", "Grant " + g.id + " was no longer live.");
      else { button.disabled = false; fail(e); }
    }
    delete state.seen.grants;
    delete state.seen.sessions;
    refresh();
  }

  // ---- one open session: info, request log, event log ----
  function openSession(s) {
    closeSession();
    state.view = { id: s.id, tenant: state.tenant, events: 0, requests: 0, ended: false };
    byId("detail").hidden = false;
    say("detail-id", s.id);
    say("detail-state", "Live. New requests and events appear as they happen.");
    byId("end").disabled = false;
    delete state.seen.sessions;
    refresh();
  }
  function closeSession() {
    state.view = null;
    byId("detail").hidden = true;
    ["requests", "events"].forEach(function (id) { byId(id).tBodies[0].replaceChildren(); });
    byId("detail-info").replaceChildren();
  }
  function markEnded(view, text) {
    if (view !== state.view || view.ended) return;
    view.ended = true;
    say("detail-state", text);
    byId("end").disabled = true;
  }
  async function loadDetail(view) {
    if (!view || view.ended) return;
    try {
      var info = await api("GET", sessionPath(view));
      if (view !== state.view) return;
      var log = info.eventLog || {};
      pairs(byId("detail-info"), [
        ["Server", info.server],
        ["Client", info.clientInfo ? info.clientInfo.name + " " + info.clientInfo.version : "-"],
        ["Protocol", info.protocolVersion],
        ["Event log", (log.events || 0) + " events, " + (log.bytes || 0) + " bytes"],
        ["Next alarm", when(info.nextAlarm)],
      ]);
      await Promise.all([follow(view, "requests", requestRow), follow(view, "events", eventRow)]);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return markEnded(view, "This session has ended.");
      throw e;
    }
  }
  /** Appends the rows after the view's cursor, a page at a time, and moves the cursor. */
  async function follow(view, kind, toRow) {
    for (var pages = 0; pages < 10; pages++) {
      var body = await api("GET", sessionPath(view) + "/" + kind + "?after=" + view[kind] + "&limit=" + PAGE);
      if (view !== state.view || view.ended) return;
      var items = body[kind];
      if (items.length) {
        byId(kind).tBodies[0].append.apply(byId(kind).tBodies[0], items.map(toRow));
        view[kind] = items[items.length - 1].seq;
      }
      if (body.next === null || body.next === undefined) return;
    }
  }
  function requestRow(r) {
    var tr = row([r.seq, when(r.at), r.method, r.tool || "", r.status, r.durationMs, r.error || ""]);
    if (r.status !== "ok") tr.className = "alert";
    return tr;
  }
  function eventRow(e) {
    var json = JSON.stringify(e.message);
    var shown = json.length > 300 ? json.slice(0, 300) + "..." : json;
    return row([e.seq, when(e.createdAt), el("code", e.streamId), e.priming ? "priming" : kindOf(e.message), el("code", shown, { title: json })]);
  }
  function kindOf(m) {
    if (Array.isArray(m)) return "batch of " + m.length;
    if (!m || typeof m !== "object") return "?";
    var id = m.id !== undefined && m.id !== null ? " #" + m.id : "";
    if (typeof m.method === "string") return m.method + id;
    if (m.error) return "error" + id;
    return "result" + id;
  }

  // ---- ending a session ----
  async function endSession() {
    var view = state.view;
    if (!view || view.ended) return;
    if (!confirm("End session " + view.id + " of tenant " + view.tenant + " now? Its client will get 404 on its next request.")) return;
    try {
      await api("DELETE", sessionPath(view));
      markEnded(view, "Session ended from this dashboard.");
      say("notice", "Session " + view.id + " ended.");
      delete state.seen.sessions;
      refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return markEnded(view, "This session had already ended.");
      fail(e);
    }
  }

  // ---- wiring ----
  byId("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = byId("token").value.trim();
    if (token) signIn(token);
  });
  byId("signout").addEventListener("click", function () { signOut(""); });
  byId("end").addEventListener("click", endSession);
  if (signedIn()) { showApp(true); refresh(); } else byId("token").focus();
})();
`;
