/**
 * The keys page: the tenant's API keys (never their secrets), creating one, whose
 * secret is shown in this tab once and is gone on the next action or reload, and
 * revoking one (`DELETE .../keys/{k}`; its sessions end).
 */
export const KEYS = String.raw`
  PAGES.keys = { load: loadKeys, reset: function () { byId("keys").tBodies[0].replaceChildren(); hideNewKey(); } };

  async function loadKeys(tenant) {
    var body = await api("GET", tenantPath(tenant) + "/keys");
    if (stale(tenant) || !changed("keys", [tenant, body.keys])) return;
    var rows = body.keys.map(function (k) {
      var live = k.revokedAt === null || k.revokedAt === undefined;
      var revoke = live ? button("Revoke", "Revoke key " + k.id, function (b) { revokeKey(tenant, k, b); }) : "";
      var tr = row([el("code", k.id), k.label, when(k.createdAt), live ? "live" : "revoked " + when(k.revokedAt), revoke]);
      tr.dataset.key = k.id;
      return tr;
    });
    fill("keys", rows, "keys-note", "Tenant " + tenant + " has no keys yet.");
  }
  function hideNewKey() {
    byId("new-key").hidden = true;
    say("new-key-value");
    say("new-key-id");
  }
  async function createKey(ev) {
    ev.preventDefault();
    var tenant = state.tenant;
    if (!tenant) return;
    var label = byId("key-label").value.trim();
    hideNewKey();
    try {
      var k = await api("POST", tenantPath(tenant) + "/keys", label ? { label: label } : {});
      if (stale(tenant)) return;
      say("new-key-id", k.id + " (" + k.label + ")");
      say("new-key-value", k.key);
      byId("new-key").hidden = false;
      byId("key-label").value = "";
      say("notice", "Key " + k.id + " created for " + tenant + ".");
    } catch (e) { fail(e); }
    forget("keys");
    refresh();
  }
  function revokeKey(tenant, k, b) {
    hideNewKey();
    return act({
      method: "DELETE", path: tenantPath(tenant) + "/keys/" + seg(k.id), button: b,
      confirm: "Revoke key " + k.id + " (" + k.label + ") of tenant " + tenant + "? Requests with it fail from now on and its sessions end.",
      done: function (d) { return "Key " + k.id + " revoked: " + d.sessionsEnded + " session(s) ended."; },
      gone: "Key " + k.id + " no longer exists.",
      forget: ["keys"],
    });
  }
  byId("key-form").addEventListener("submit", createKey);
  byId("new-key-done").addEventListener("click", hideNewKey);
`;
