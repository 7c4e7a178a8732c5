/**
 * The OAuth grants page: the tenant's live grants (client names are a stranger's
 * words: text only) and revoking one (`DELETE .../grants/{g}`), which also ends its
 * sessions.
 */
export const GRANTS = String.raw`
  PAGES.grants = { load: loadGrants, reset: function () { byId("grants").tBodies[0].replaceChildren(); } };

  async function loadGrants(tenant) {
    var body = await api("GET", tenantPath(tenant) + "/grants?limit=" + PAGE);
    if (stale(tenant)) return;
    var grants = body.grants;
    if (!changed("grants", [tenant, grants, body.next])) return;
    var rows = grants.map(function (g) {
      var client = g.client.name ? g.client.name + " (" + g.client.id + ")" : g.client.id;
      var revoke = button("Revoke", "Revoke grant " + g.id, function (b) { revokeGrant(tenant, g, b); });
      var tr = row([el("code", g.id), client, g.approver.subject || g.approver.keyId || "-", g.server, when(g.createdAt), when(g.lastUsedAt), when(g.expiresAt), revoke]);
      tr.dataset.grant = g.id;
      return tr;
    });
    fill("grants", rows, "grants-note", "No live OAuth grants for " + tenant + ".");
    if (grants.length && body.next !== null && body.next !== undefined) say("grants-note", "The first " + grants.length + " grants are shown; smcp grants ls " + tenant + " lists them all.");
  }
  function revokeGrant(tenant, g, b) {
    return act({
      method: "DELETE", path: tenantPath(tenant) + "/grants/" + seg(g.id), button: b,
      confirm: "Revoke grant " + g.id + " of tenant " + tenant + " (client " + (g.client.name || g.client.id) + ")? Its tokens stop working and its sessions end now.",
      done: function (d) {
        var failed = d.sessionsFailed.length ? "; " + d.sessionsFailed.length + " could not be ended yet (revoke again to retry)" : "";
        return "Grant " + g.id + " revoked: " + d.sessionsEnded + " session(s) ended" + failed + ".";
      },
      gone: "Grant " + g.id + " was no longer live.",
      forget: ["grants"],
    });
  }
`;
