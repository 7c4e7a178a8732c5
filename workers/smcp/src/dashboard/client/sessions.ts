/**
 * The sessions page: the tenant's live sessions and one open session, whose event and
 * request logs are followed with `after` cursors so that only new rows are appended,
 * and which can be ended (`DELETE .../sessions/{sid}`, audited as the caller).
 */
export const SESSIONS = String.raw`
  PAGES.sessions = { load: loadSessions, reset: closeSession };

  function sessionPath(view) { return tenantPath(view.tenant) + "/sessions/" + seg(view.id); }

  async function loadSessions(tenant) {
    var body = await api("GET", tenantPath(tenant) + "/sessions");
    if (stale(tenant)) return;
    var sessions = body.sessions;
    var openId = state.view && state.view.id;
    if (changed("sessions", [tenant, sessions, openId])) {
      var rows = sessions.map(function (s) {
        var client = s.clientInfo ? (s.clientInfo.name || "?") + " " + (s.clientInfo.version || "") : "-";
        var open = button("Open", "Open session " + s.id, function () { openSession(s); });
        var tr = row([el("code", s.id), s.server, s.keyId || "-", s.protocolVersion, client, when(s.createdAt), when(s.lastActivity), when(s.expiresAt), open]);
        tr.setAttribute("aria-selected", String(s.id === openId));
        tr.dataset.session = s.id;
        return tr;
      });
      fill("sessions", rows, "sessions-note", "No live sessions for " + tenant + ".");
    }
    await loadDetail(state.view);
  }

  function openSession(s) {
    closeSession();
    state.view = { id: s.id, tenant: state.tenant, events: 0, requests: 0, ended: false };
    byId("detail").hidden = false;
    say("detail-id", s.id);
    say("detail-state", "Live. New requests and events appear as they happen.");
    byId("end").disabled = false;
    forget("sessions");
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

  async function endSession() {
    var view = state.view;
    if (!view || view.ended) return;
    if (!confirm("End session " + view.id + " of tenant " + view.tenant + " now? Its client will get 404 on its next request.")) return;
    try {
      await api("DELETE", sessionPath(view));
      markEnded(view, "Session ended from this dashboard.");
      say("notice", "Session " + view.id + " ended.");
      forget("sessions");
      refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return markEnded(view, "This session had already ended.");
      fail(e);
    }
  }
  byId("end").addEventListener("click", endSession);
`;
