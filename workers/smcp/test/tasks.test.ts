/**
 * Tasks (2026-07-28 Tasks extension, issue 13 item 1) against the real Worker and real
 * Durable Objects: every request below is a separate stateless request through `SELF`,
 * so nothing of a task can live in the request or the handler that created it; the
 * state is in the tenant's TaskDO. A restart is the object's own `abort()` (restartObject: workerd
 * starts a new instance on the next call), and expiry is the object's alarm run on
 * demand after moving a task's expiry into the past. No sleeps decide an outcome: the
 * tests poll a task until it leaves `working`.
 *
 * SMCP_MAX_TASKS_PER_TENANT is 4 and SMCP_MAX_TASK_RESULT_BYTES 4096 in vitest.config.ts.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { taskObjectName } from "../src/tasks/task-do";
import {
  EMPTY_STORAGE,
  admin,
  adminOk,
  STATELESS_REVISION,
  expectRpcError,
  mcpFetch,
  mcpUrl,
  newKey,
  provisionTenant,
  rememberIncarnation,
  responseMessage,
  rpc,
  settledTask as settled,
  startTask,
  statelessMeta,
  storageOf,
  taskCall,
  taskFetch,
  restartObject,
} from "./helpers";

const TASK_CAP = 4;

async function taskObject(tenant: string) {
  return env.TASKS.get(env.TASKS.idFromName(taskObjectName(tenant, await rememberIncarnation(tenant))));
}

describe("tasks on the stateless lane", () => {
  it("stateless:tasks tasks:cross-request — a task created by one request is read, answered and cancelled by others; its result is inlined on tasks/get", async () => {
    const t = await provisionTenant({ prefix: "task", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");

    const quick = await startTask(url, t.key, "slow_compute", { seconds: 0, label: "quick" });
    expect(quick).toMatch(/^task_[A-Za-z0-9_-]{32}$/);
    const done = await settled(url, t.key, quick);
    expect(done).toMatchObject({ status: "completed", resultType: "complete", result: { content: [{ type: "text", text: "Computed quick after 0s" }] } });

    const asking = await startTask(url, t.key, "confirm_delete", { filename: "a.txt" });
    const waiting = await settled(url, t.key, asking);
    expect(waiting.status).toBe("input_required");
    expect(Object.keys(waiting.inputRequests)).toEqual(["confirm"]);
    expect(await taskCall(url, t.key, "tasks/update", { taskId: asking, inputResponses: { confirm: { action: "accept", content: { ok: true } } } })).toEqual(
      expect.objectContaining({ resultType: "complete" }),
    );
    expect(await settled(url, t.key, asking)).toMatchObject({ status: "completed", result: { content: [{ text: "Deleted a.txt" }] } });

    const slow = await startTask(url, t.key, "slow_compute", { seconds: 60 });
    const ack = await taskCall(url, t.key, "tasks/cancel", { taskId: slow });
    expect(ack).not.toHaveProperty("taskId");
    expect(await taskCall(url, t.key, "tasks/get", { taskId: slow })).toMatchObject({ status: "cancelled" });

    // Bad arguments are refused at once, as for any tool: no task is made of them.
    const refused = await expectRpcError(await taskFetch(url, t.key, "tools/call", { name: "slow_compute", arguments: { seconds: "soon" } }), 200, -32602);
    expect(refused.message).toMatch(/seconds/);
  });

  it("tasks:cross-request — notes: search_notes runs as a task for a client that declares the extension, over the tenant's tool data", async () => {
    const t = await provisionTenant({ prefix: "task-notes", servers: ["notes"] });
    const url = mcpUrl(t.tenant, "notes");
    await taskCall(url, t.key, "tools/call", { name: "add_note", arguments: { title: "kept", body: "found by a task" } });
    const taskId = await startTask(url, t.key, "search_notes", { query: "task" });
    const done = await settled(url, t.key, taskId);
    expect(done.status).toBe("completed");
    expect(JSON.stringify(done.result)).toContain("found by a task");
  });

  it("tasks:bounded — a task whose result exceeds SMCP_MAX_TASK_RESULT_BYTES fails with a reason and stores none of it", async () => {
    const t = await provisionTenant({ prefix: "task-big", servers: ["notes"] });
    const url = mcpUrl(t.tenant, "notes");
    await taskCall(url, t.key, "tools/call", { name: "add_note", arguments: { title: "big", body: "x".repeat(6000) } });
    const taskId = await startTask(url, t.key, "search_notes", { query: "big" });
    const done = await settled(url, t.key, taskId);
    expect(done).toMatchObject({ status: "failed", error: { code: -32603 } });
    expect(done.error.message).toMatch(/exceeds the platform's bound of 4096 bytes/);
    const stored = await runInDurableObject(await taskObject(t.tenant), (_instance, state) =>
      state.storage.sql.exec<{ result: string | null }>("SELECT result FROM tasks WHERE id = ?", taskId).one().result,
    );
    expect(stored).toBeNull();
  });

  it("tasks:principal isolation:tenants — another key of the same tenant, and another tenant, get not-found for a task; the owner still sees it", async () => {
    const t = await provisionTenant({ prefix: "task-own", servers: ["everything"] });
    const other = await newKey(t.tenant);
    const stranger = await provisionTenant({ prefix: "task-str", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const taskId = await startTask(url, t.key, "slow_compute", { seconds: 60 });

    for (const method of ["tasks/get", "tasks/cancel"]) {
      const err = await expectRpcError(await taskFetch(url, other.key, method, { taskId }), 200, -32602);
      expect(err.message).toMatch(/Unknown task/);
      await expectRpcError(await taskFetch(mcpUrl(stranger.tenant, "everything"), stranger.key, method, { taskId }), 200, -32602);
    }
    await expectRpcError(await taskFetch(url, other.key, "tasks/update", { taskId, inputResponses: {} }), 200, -32602);
    expect(await taskCall(url, t.key, "tasks/get", { taskId })).toMatchObject({ taskId, status: "working" });
    await taskCall(url, t.key, "tasks/cancel", { taskId });
  });

  it("tasks:cap — a tenant holds at most SMCP_MAX_TASKS_PER_TENANT tasks; one more is refused until one expires", async () => {
    const t = await provisionTenant({ prefix: "task-cap", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const ids: string[] = [];
    for (let i = 0; i < TASK_CAP; i++) ids.push(await startTask(url, t.key, "slow_compute", { seconds: 0 }));
    const refused = await expectRpcError(await taskFetch(url, t.key, "tools/call", { name: "slow_compute", arguments: { seconds: 0 } }), 200, -32600);
    expect(refused.message).toMatch(/holds 4 tasks, its limit/);
    // Another tenant is not affected.
    const other = await provisionTenant({ prefix: "task-cap2", servers: ["everything"] });
    await startTask(mcpUrl(other.tenant, "everything"), other.key, "slow_compute", { seconds: 0 });

    const stub = await taskObject(t.tenant);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE tasks SET expires_at = ? WHERE id = ?", Date.now() - 1, ids[0]);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await startTask(url, t.key, "slow_compute", { seconds: 0 });
  });

  it("tasks:expiry — the alarm deletes a task once its ttlMs has passed, and the object's storage with the last one", async () => {
    const t = await provisionTenant({ prefix: "task-exp", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const stub = await taskObject(t.tenant);
    // A lookup of a made-up id writes nothing.
    await expectRpcError(await taskFetch(url, t.key, "tasks/get", { taskId: "task_madeup" }), 200, -32602);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);

    const keep = await startTask(url, t.key, "slow_compute", { seconds: 0 });
    const drop = await startTask(url, t.key, "slow_compute", { seconds: 0 });
    const created = await taskCall(url, t.key, "tasks/get", { taskId: keep });
    expect(created.ttlMs).toBe(3_600_000);
    expect((await storageOf(stub)).alarm).toBe(Date.parse(created.createdAt) + created.ttlMs);

    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE tasks SET expires_at = ? WHERE id = ?", Date.now() - 1, drop);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expectRpcError(await taskFetch(url, t.key, "tasks/get", { taskId: drop }), 200, -32602);
    expect((await settled(url, t.key, keep)).status).toBe("completed");

    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE tasks SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
  });

  it("tasks:restart stateless:tasks — after the task object restarts, a finished task still returns its result and one whose work was lost is failed with a reason", async () => {
    const t = await provisionTenant({ prefix: "task-rst", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const finished = await startTask(url, t.key, "slow_compute", { seconds: 0, label: "kept" });
    expect((await settled(url, t.key, finished)).status).toBe("completed");
    const running = await startTask(url, t.key, "slow_compute", { seconds: 60 });
    const asking = await startTask(url, t.key, "confirm_delete", { filename: "b.txt" });
    expect((await settled(url, t.key, asking)).status).toBe("input_required");

    await restartObject(() => taskObject(t.tenant));

    expect(await taskCall(url, t.key, "tasks/get", { taskId: finished })).toMatchObject({ status: "completed", result: { content: [{ text: "Computed kept after 0s" }] } });
    const lost = await taskCall(url, t.key, "tasks/get", { taskId: running });
    expect(lost).toMatchObject({ status: "failed", error: { code: -32603 } });
    expect(lost.error.message).toMatch(/work was lost/);
    expect(lost).not.toHaveProperty("result");
    // A task waiting for input has no work to lose: it goes on once answered.
    await taskCall(url, t.key, "tasks/update", { taskId: asking, inputResponses: { confirm: { action: "accept", content: { ok: true } } } });
    expect((await settled(url, t.key, asking)).status).toBe("completed");
  });

  it("tasks:revoke — revoking a key cancels its unfinished tasks and leaves other keys' tasks alone", async () => {
    const t = await provisionTenant({ prefix: "task-rev", servers: ["everything"] });
    const doomed = await newKey(t.tenant);
    const url = mcpUrl(t.tenant, "everything");
    const theirs = await startTask(url, doomed.key, "slow_compute", { seconds: 60 });
    const mine = await startTask(url, t.key, "slow_compute", { seconds: 60 });
    await adminOk("DELETE", `/tenants/${t.tenant}/keys/${doomed.id}`);
    const statuses = await runInDurableObject(await taskObject(t.tenant), (_instance, state) =>
      Object.fromEntries(state.storage.sql.exec<{ id: string; status: string }>("SELECT id, status FROM tasks").toArray().map((r) => [r.id, r.status])),
    );
    expect(statuses).toEqual({ [theirs]: "cancelled", [mine]: "working" });
    await taskCall(url, t.key, "tasks/cancel", { taskId: mine });
  });

  it("tasks:admin — an admin lists the tenant's tasks (no call, no result) and cancels one whoever owns it; a tenant admin key sees only its tenant's", async () => {
    const t = await provisionTenant({ prefix: "task-adm", servers: ["everything"] });
    const other = await provisionTenant({ prefix: "task-adm-b", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const running = await startTask(url, t.key, "slow_compute", { seconds: 60, label: "secret label" });
    const { tasks } = await adminOk("GET", `/tenants/${t.tenant}/tasks`);
    expect(tasks).toEqual([expect.objectContaining({ taskId: running, server: "everything", keyId: t.keyId, status: "working" })]);
    expect(JSON.stringify(tasks)).not.toContain("secret label");
    expect((await adminOk("GET", `/tenants/${other.tenant}/tasks`)).tasks).toEqual([]);

    // A tenant admin key of the other tenant cannot reach them; the platform admin cancels.
    const otherAdmin = await adminOk("POST", `/tenants/${other.tenant}/admin-keys`, { label: "b" }, 201);
    expect((await admin("GET", `/tenants/${t.tenant}/tasks`, undefined, otherAdmin.key)).status).toBe(403);
    expect((await admin("DELETE", `/tenants/${t.tenant}/tasks/${running}`, undefined, otherAdmin.key)).status).toBe(403);
    expect(await adminOk("DELETE", `/tenants/${t.tenant}/tasks/${running}`)).toEqual({ cancelled: running });
    expect(await taskCall(url, t.key, "tasks/get", { taskId: running })).toMatchObject({ status: "cancelled" });
    expect((await admin("DELETE", `/tenants/${t.tenant}/tasks/task_made_up`)).status).toBe(404);
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    expect(JSON.stringify(audit)).toContain("task.cancelled");
  });

  it("tasks:gated — without the extension, tasks methods get -32021, a task-optional tool answers synchronously and a task-required one is refused", async () => {
    const t = await provisionTenant({ prefix: "task-gate", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const plain = (method: string, params: Record<string, unknown>, name?: string) =>
      mcpFetch(url, {
        key: t.key,
        headers: { "MCP-Protocol-Version": STATELESS_REVISION, "Mcp-Method": method, ...(name ? { "Mcp-Name": name } : {}) },
        body: rpc(method, { ...params, _meta: statelessMeta() }),
      });
    const gated = await expectRpcError(await plain("tasks/get", { taskId: "task_x" }, "task_x"), 400, -32021);
    expect(gated.message).toMatch(/needs the io.modelcontextprotocol\/tasks extension/);
    const sync = await responseMessage(await plain("tools/call", { name: "slow_compute", arguments: { seconds: 0 } }, "slow_compute"));
    expect(sync.result).toMatchObject({ resultType: "complete", content: [{ text: "Computed result after 0s" }] });
    await expectRpcError(await plain("tools/call", { name: "failing_job", arguments: {} }, "failing_job"), 400, -32021);
  });
});
