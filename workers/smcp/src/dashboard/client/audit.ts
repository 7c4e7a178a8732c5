/**
 * The audit page: the result of verifying the tenant's hash chain
 * (`GET .../audit/verify`, from the last checkpoint) and its entries, newest first.
 * Entries are followed with an `after` cursor, so each poll fetches only new rows.
 */
export const AUDIT = String.raw`
  PAGES.audit = { load: loadAudit, reset: resetAudit };
  /** Rows kept on the page; older ones stay in the API (smcp audit, smcp audit export). */
  var AUDIT_ROWS = 1000;

  function resetAudit() {
    state.pages.audit = { after: 0 };
    byId("audit").tBodies[0].replaceChildren();
    byId("audit").hidden = true;
    byId("audit-verdict").replaceChildren();
  }
  async function loadAudit(tenant) {
    var cursor = state.pages.audit || (state.pages.audit = { after: 0 });
    var verdict = await api("GET", tenantPath(tenant) + "/audit/verify");
    if (stale(tenant)) return;
    if (changed("audit-verdict", [tenant, verdict])) showVerdict(verdict);
    for (var pages = 0; pages < 10; pages++) {
      var body = await api("GET", tenantPath(tenant) + "/audit?after=" + cursor.after + "&limit=" + PAGE);
      if (stale(tenant) || cursor !== state.pages.audit) return;
      var body0 = byId("audit").tBodies[0];
      body.entries.forEach(function (e) { body0.prepend(auditRow(e)); });
      while (body0.rows.length > AUDIT_ROWS) body0.lastElementChild.remove();
      if (body.entries.length) cursor.after = body.entries[body.entries.length - 1].seq;
      if (body.next === null || body.next === undefined) break;
    }
    byId("audit").hidden = !byId("audit").tBodies[0].rows.length;
    say("audit-note", byId("audit").hidden ? "No audit entries." : "");
  }
  function showVerdict(v) {
    var box = byId("audit-verdict");
    var span = "entries " + v.from + " to " + v.through + (v.anchor && v.anchor.seq ? ", from checkpoint " + v.anchor.seq : ", from the start");
    box.replaceChildren(v.ok
      ? el("p", "Chain verified: " + v.entries + " " + span + ".", { class: "notice", "data-verified": "true" })
      : el("p", "Chain broken at entry " + v.brokenAt + ": " + v.reason + " (" + span + ").", { class: "alert", "data-verified": "false" }));
  }
  function auditRow(e) {
    var json = JSON.stringify(e.detail);
    var shown = json.length > 200 ? json.slice(0, 200) + "..." : json;
    var tr = row([e.seq, when(e.at), el("code", e.actor), e.action, el("code", e.target), el("code", shown, { title: json })]);
    tr.dataset.seq = String(e.seq);
    return tr;
  }
`;
