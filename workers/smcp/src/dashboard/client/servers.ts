/**
 * The servers page: the tenant's servers, and for the chosen one its health (kind,
 * version, status, upstream reachability, recent errors), charts of its traffic over
 * the last hour or day (from the series API, drawn by chart.ts), its deployments with
 * a one-click rollback, its secrets' names (the API never returns values) and its tool
 * policy.
 */
export const SERVERS = String.raw`
  PAGES.servers = { load: loadServers, reset: resetServers };

  function serverPath(tenant, server) { return tenantPath(tenant) + "/servers/" + seg(server); }
  function resetServers() {
    byId("server-list").replaceChildren();
    byId("server-detail").hidden = true;
    byId("charts").replaceChildren();
  }

  async function loadServers(tenant) {
    var body = await api("GET", tenantPath(tenant) + "/servers");
    if (stale(tenant)) return;
    var names = body.servers.map(function (s) { return s.name; });
    if (state.server !== null && names.indexOf(state.server) < 0) state.server = null;
    if (state.server === null && names.length) state.server = names[0];
    if (changed("server-list", [tenant, names, state.server])) {
      var list = byId("server-list");
      list.replaceChildren();
      names.forEach(function (name) {
        var li = el("li");
        li.append(button(name, "Server " + name, function () { chooseServer(name); }));
        li.firstChild.setAttribute("aria-pressed", String(name === state.server));
        list.append(li);
      });
      say("servers-note", names.length ? "" : "Tenant " + tenant + " has no servers enabled (smcp servers enable " + tenant + " <server>).");
    }
    byId("server-detail").hidden = state.server === null;
    if (state.server === null) return;
    var server = state.server;
    var info = await api("GET", serverPath(tenant, server));
    if (stale(tenant) || server !== state.server) return;
    await Promise.all([loadCharts(tenant, server, info), loadDeployments(tenant, server, info), loadSecrets(tenant, server, info), loadPolicy(tenant, server)]);
  }
  function chooseServer(name) {
    if (state.server === name) return;
    state.server = name;
    byId("charts").replaceChildren();
    state.seen = {};
    refresh();
  }
  function chooseRange(range) {
    state.range = range;
    forget("charts");
    refresh();
  }

  // ---- health ----
  function showHealth(info, series) {
    var errorsNow = series ? series.points.reduce(function (n, p) { return n + p.errors; }, 0) : null;
    var list = [["Server", info.server], ["Kind", info.kind]];
    var errors = [];
    if (info.kind === "built-in") {
      list.push(["Version", "the platform's"], ["Status", info.enabled ? "serving" : "disabled"]);
    } else if (info.kind === "upstream") {
      var h = info.health || {};
      list.push(["Upstream", info.url], ["Status", info.status],
        ["Reachability", h.state + (h.latencyMs !== null && h.latencyMs !== undefined ? ", probe " + h.latencyMs + " ms" : "") + (h.checkedAt ? ", checked " + when(h.checkedAt) : "")],
        ["Tools", h.tools === null || h.tools === undefined ? "-" : h.tools]);
      if (h.lastError) errors.push({ at: h.lastErrorAt, version: "-", kind: "upstream", message: h.lastError });
    } else {
      list.push(["Version", info.version === null ? "none active" : "v" + info.version], ["Status", info.status],
        ["Format", info.format || "-"], ["Tools", (info.tools || []).join(", ") || "none"],
        ["Calls", info.calls + ", " + info.errors + " errors (" + (info.errorRate * 100).toFixed(1) + "%)"]);
      errors = (info.lastErrors || []).map(function (e) { return { at: e.at, version: "v" + e.version, kind: e.kind, message: e.message }; });
    }
    if (errorsNow !== null) list.push(["Errors, last " + series.range, errorsNow]);
    pairs(byId("server-health"), list);
    fill("server-errors", errors.slice(0, 10).map(function (e) { return row([when(e.at), e.version, e.kind, e.message]); }), "server-errors-note", "No recent errors recorded.");
  }

  // ---- charts ----
  async function loadCharts(tenant, server, info) {
    var range = state.range;
    var series = null;
    try {
      series = await api("GET", serverPath(tenant, server) + "/series?range=" + range);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    if (stale(tenant) || server !== state.server || range !== state.range) return;
    if (changed("server-health", [tenant, info, series])) showHealth(info, series);
    Array.prototype.forEach.call(document.querySelectorAll("#ranges button"), function (b) { b.setAttribute("aria-pressed", String(b.dataset.range === range)); });
    if (!changed("charts", [tenant, server, series])) return;
    var box = byId("charts");
    if (!series) {
      box.replaceChildren();
      return say("charts-note", "No traffic figures for " + server + " on this platform.");
    }
    say("charts-note", "");
    box.replaceChildren.apply(box, SmcpCharts.metrics.map(function (metric) {
      var m = SmcpCharts.model(series, metric);
      var figure = el("figure", null, { class: "chart-box", "data-metric": metric });
      var caption = el("figcaption", m.title + " (" + m.unit + ") ");
      if (m.lines.length > 1) m.lines.forEach(function (line) { caption.append(el("span", line.name, { class: "key line-" + line.name })); });
      figure.append(caption, SmcpCharts.draw(m));
      return figure;
    }));
  }

  // ---- deployments ----
  async function loadDeployments(tenant, server, info) {
    var section = byId("deployments-section");
    section.hidden = info.kind !== "deployed";
    if (section.hidden) return;
    var body = await api("GET", serverPath(tenant, server) + "/deployments");
    if (stale(tenant) || server !== state.server || !changed("deployments", [tenant, server, body.deployments])) return;
    var rows = body.deployments.map(function (d) {
      var action = d.status === "active" ? "serving" : button("Roll back to v" + d.version, "Roll back " + server + " to v" + d.version, function (b) { rollback(tenant, server, d.version, b); });
      var tr = row(["v" + d.version, d.kind, d.status, d.size + " bytes", when(d.createdAt), d.calls, d.errors, action]);
      tr.dataset.version = String(d.version);
      return tr;
    });
    fill("deployments", rows, "deployments-note", "Nothing deployed under " + server + ".");
  }
  function rollback(tenant, server, version, b) {
    return act({
      method: "POST", path: serverPath(tenant, server) + "/deployments/" + version + "/activate", button: b,
      confirm: "Make v" + version + " of " + tenant + "/" + server + " the active version? New sessions use it; running sessions keep theirs.",
      done: function (d) { return tenant + "/" + server + " now serves v" + d.version + "."; },
      forget: ["deployments", "server-health"],
    });
  }

  // ---- secrets (names only) and policy ----
  async function loadSecrets(tenant, server, info) {
    var section = byId("secrets-section");
    section.hidden = info.kind === "built-in";
    if (section.hidden) return;
    var body = await api("GET", serverPath(tenant, server) + "/secrets");
    if (stale(tenant) || server !== state.server || !changed("secrets", [tenant, server, body.secrets])) return;
    fill("secrets", body.secrets.map(function (s) { return row([el("code", s.name), when(s.createdAt), when(s.updatedAt)]); }), "secrets-note", "No secrets set for " + server + ".");
  }
  async function loadPolicy(tenant, server) {
    var policy = null;
    try {
      policy = await api("GET", serverPath(tenant, server) + "/policy");
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    if (stale(tenant) || server !== state.server || !changed("policy", [tenant, server, policy])) return;
    var dl = byId("policy");
    if (!policy) {
      dl.replaceChildren();
      return say("policy-note", "No tool policy: clients see every tool " + server + " lists.");
    }
    say("policy-note", "Set " + when(policy.updatedAt) + ".");
    var renames = Object.entries(policy.rename).map(function (e) { return e[0] + " as " + e[1]; });
    pairs(dl, [
      ["Allow", policy.allow === null ? "every tool" : policy.allow.join(", ") || "none"],
      ["Deny", policy.deny.join(", ") || "none"],
      ["Rename", renames.join(", ") || "none"],
      ["Descriptions", Object.keys(policy.descriptions).join(", ") || "as the server writes them"],
    ]);
  }

  Array.prototype.forEach.call(document.querySelectorAll("#ranges button"), function (b) {
    b.addEventListener("click", function () { chooseRange(b.dataset.range); });
  });
`;
