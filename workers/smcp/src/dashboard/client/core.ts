/**
 * The dashboard script's shared part: the state, text-only DOM helpers and the admin
 * API call. Every page fragment (servers.ts, keys.ts, ...) is concatenated after it
 * inside one function scope (client/index.ts), so they share these names without a
 * global and without a module loader.
 *
 * Tenant data may be hostile: every value reaches the DOM as a text node
 * (`textContent`, `append(string)`) or an attribute value, never as markup. The
 * page's CSP also requires Trusted Types with no policy, so an `innerHTML`
 * assignment would throw rather than parse.
 *
 * Plain ES2020 in a raw string: no backticks, no template substitutions.
 */
export const CORE = String.raw`
  var TOKEN_KEY = "smcp-admin-token";
  var POLL_MS = 2000;
  var PAGE = 100;
  var ADMIN_KEY_PREFIX = "smcp_ak_";
  var byId = function (id) { return document.getElementById(id); };
  var seg = encodeURIComponent;

  /**
   * What is shown: the tenant, its page, the server of the servers page and its chart
   * range, the open session. Each page keeps its own cursors in state.pages[name].
   */
  var state = { tenant: null, page: "servers", server: null, range: "1h", view: null, seen: {}, pages: {} };
  /** The tenant pages: name -> { load(tenant), reset() }, filled in by each fragment. */
  var PAGES = {};

  // ---- DOM helpers: text only ----
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) for (var k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }
  function wrap(node) { var td = document.createElement("td"); td.append(node); return td; }
  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) { tr.append(c instanceof Node ? wrap(c) : el("td", c)); });
    return tr;
  }
  function pairs(dl, list) {
    dl.replaceChildren();
    list.forEach(function (p) { dl.append(el("dt", p[0]), el("dd", p[1])); });
  }
  function button(text, label, onClick) {
    var b = el("button", text, { type: "button", "aria-label": label });
    b.addEventListener("click", function () { onClick(b); });
    return b;
  }
  /** Fills a table's body (and hides it when empty, with the note saying why). */
  function fill(tableId, rows, noteId, emptyText) {
    var table = byId(tableId);
    table.hidden = !rows.length;
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
    if (noteId) say(noteId, rows.length ? "" : emptyText);
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
  function forget() { for (var i = 0; i < arguments.length; i++) delete state.seen[arguments[i]]; }
  /** True when the tenant an answer is for is no longer the one shown. */
  function stale(tenant) { return tenant !== state.tenant; }

  // ---- the admin API ----
  function ApiError(status, code, message, token) {
    this.status = status; this.code = code; this.message = message; this.token = token;
  }
  async function api(method, path, body) {
    var token = sessionStorage.getItem(TOKEN_KEY) || "";
    var headers = { authorization: "Bearer " + token };
    if (body !== undefined) headers["content-type"] = "application/json";
    var res = await fetch("/admin/v1" + path, { method: method, headers: headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
    var answer = null;
    try { answer = await res.json(); } catch (e) { answer = null; }
    if (!res.ok) {
      var err = (answer && answer.error) || {};
      throw new ApiError(res.status, err.code || "http_" + res.status, err.message || "HTTP " + res.status, token);
    }
    return answer;
  }
  function tenantPath(tenant) { return "/tenants/" + seg(tenant === undefined ? state.tenant : tenant); }
  /** The tenant a tenant admin key manages (its prefix names it), or null for the platform token. */
  function keyTenant() {
    var token = sessionStorage.getItem(TOKEN_KEY) || "";
    if (token.indexOf(ADMIN_KEY_PREFIX) !== 0) return null;
    var rest = token.slice(ADMIN_KEY_PREFIX.length);
    var dot = rest.indexOf(".");
    return dot > 0 ? rest.slice(0, dot) : null;
  }

  /**
   * One admin action from a button: asks first, disables the button while it runs,
   * says what happened, and forgets the rendered state so the next poll redraws.
   * A 404 means someone else did it first; that is said, not shown as an error.
   */
  async function act(opts) {
    if (opts.confirm && !confirm(opts.confirm)) return;
    if (opts.button) opts.button.disabled = true;
    try {
      var done = await api(opts.method, opts.path, opts.body);
      say("notice", opts.done(done));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && opts.gone) say("notice", opts.gone);
      else { if (opts.button) opts.button.disabled = false; fail(e); }
    }
    forget.apply(null, opts.forget || []);
    refresh();
  }
`;
