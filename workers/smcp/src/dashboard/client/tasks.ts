/**
 * The tasks page: the tenant's tasks (2026-07-28 Tasks extension), newest first, with
 * their owner and status, never their call or result (those are the owner's); an
 * unfinished one can be cancelled (`DELETE .../tasks/{task}`, audited as the caller).
 */
export const TASKS = String.raw`
  PAGES.tasks = { load: loadTasks, reset: function () { byId("tasks").tBodies[0].replaceChildren(); } };
  var FINISHED = ["completed", "failed", "cancelled"];

  async function loadTasks(tenant) {
    var body = await api("GET", tenantPath(tenant) + "/tasks?limit=" + PAGE);
    if (stale(tenant) || !changed("tasks", [tenant, body.tasks])) return;
    var rows = body.tasks.map(function (t) {
      var owner = t.grantId ? "grant " + t.grantId : t.keyId ? "key " + t.keyId : "(no key)";
      var cancel = FINISHED.indexOf(t.status) >= 0 ? "" : button("Cancel", "Cancel task " + t.taskId, function (b) { cancelTask(tenant, t, b); });
      var tr = row([el("code", t.taskId), t.server, owner, t.statusMessage ? t.status + ": " + t.statusMessage : t.status, when(t.createdAt), when(t.expiresAt), cancel]);
      tr.dataset.task = t.taskId;
      return tr;
    });
    fill("tasks", rows, "tasks-note", "Tenant " + tenant + " holds no tasks.");
  }
  function cancelTask(tenant, t, b) {
    return act({
      method: "DELETE", path: tenantPath(tenant) + "/tasks/" + seg(t.taskId), button: b,
      confirm: "Cancel task " + t.taskId + " of tenant " + tenant + " (" + t.server + ")? Its owner's tasks/get will say cancelled.",
      done: function () { return "Task " + t.taskId + " cancelled."; },
      gone: "Task " + t.taskId + " no longer exists.",
      forget: ["tasks"],
    });
  }
`;
