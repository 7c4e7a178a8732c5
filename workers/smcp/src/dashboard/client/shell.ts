/**
 * The dashboard's frame: sign in and out, the polling loop, platform health, the
 * tenant picker and the tenant pages' navigation. A poll loads the health (platform
 * token only), the tenants and the one page on view; pages not shown cost nothing.
 *
 * A tenant admin key (`smcp_ak_{tenant}.…`) signs in too: the picker then holds its
 * own tenant only, and platform health (which it may not read) is not shown.
 */
export const SHELL = String.raw`
  var timer = 0, running = null, rerun = false;

  // ---- sign in and out ----
  function signedIn() { return !!sessionStorage.getItem(TOKEN_KEY); }
  function showApp(on) {
    byId("login").hidden = on;
    byId("app").hidden = !on;
    byId("signout").hidden = !on;
    byId("platform").hidden = !on || keyTenant() !== null;
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
    chooseTenant(null);
    state.seen = {};
    ["health", "tenants"].forEach(function (id) { byId(id).replaceChildren(); });
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
    var tenant = state.tenant;
    await Promise.all([keyTenant() === null ? loadHealth() : null, loadTenants(), tenant ? loadPage(tenant) : null]);
    say("error");
  }
  async function loadPage(tenant) {
    try {
      await PAGES[state.page].load(tenant);
    } catch (e) {
      // The tenant was deleted meanwhile: the picker drops it on its next load.
      if (e instanceof ApiError && e.code === "unknown_tenant" && !stale(tenant)) return chooseTenant(null);
      throw e;
    }
  }
  function fail(e) {
    if (e instanceof ApiError && e.status === 401) {
      if (e.token === sessionStorage.getItem(TOKEN_KEY)) signOut("The admin token was refused (401 unauthorized). Check SMCP_ADMIN_TOKEN and sign in again.");
      return;
    }
    say("error", e instanceof ApiError ? e.message + " (" + e.code + ")" : "Cannot reach the admin API: " + (e && e.message));
  }

  // ---- platform health ----
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

  // ---- the tenant picker ----
  async function loadTenants() {
    var own = keyTenant();
    var tenants = own === null ? (await api("GET", "/tenants")).tenants : [await api("GET", tenantPath(own))];
    if (state.tenant && !tenants.some(function (t) { return t.id === state.tenant; })) chooseTenant(null);
    if (own !== null && !state.tenant) chooseTenant(own);
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
    state.server = null;
    for (var name in PAGES) PAGES[name].reset();
    state.seen = {};
    byId("tenant-pages").hidden = !id;
    say("tenant-title", id ? "Tenant " + id : "");
    say("tenant-note", id ? "" : "Choose a tenant.");
    showPage(state.page);
    refresh();
  }
  /** Shows one tenant page; its section is the only one not hidden. */
  function showPage(name) {
    state.page = name;
    Array.prototype.forEach.call(document.querySelectorAll("#page-nav button"), function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.page === name));
    });
    Array.prototype.forEach.call(document.querySelectorAll("section[data-page]"), function (s) {
      s.hidden = !state.tenant || s.dataset.page !== name;
    });
  }
  function choosePage(name) {
    if (!PAGES[name]) return;
    showPage(name);
    state.seen = {};
    refresh();
  }
`;

/** Wires the page's static controls and starts; it runs last, after every page has registered. */
export const START = String.raw`
  byId("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = byId("token").value.trim();
    if (token) signIn(token);
  });
  byId("signout").addEventListener("click", function () { signOut(""); });
  Array.prototype.forEach.call(document.querySelectorAll("#page-nav button"), function (b) {
    b.addEventListener("click", function () { choosePage(b.dataset.page); });
  });
  if (signedIn()) { showApp(true); refresh(); } else byId("token").focus();
`;
