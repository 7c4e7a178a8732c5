/**
 * Task status notifications (2026-07-28 Tasks extension): `notifications/tasks` on a
 * `subscriptions/listen` stream that names `taskIds`, for the task's owner only. The
 * TaskDO publishes each change to the server's ListenBusDO; the listen stream reads the
 * task again as its principal (src/tasks/task-listen.ts). Every request is a separate
 * stateless request through `SELF`. No sleeps decide an outcome: a stream is read until
 * the status it must reach, or until it ends.
 */
import { describe, expect, it } from "vitest";
import { SseReader, adminOk, busStub, expectRpcError, mcpUrl, newKey, provisionTenant, startTask, statelessFetch, taskCall, taskFetch } from "./helpers";

/** The next JSON-RPC message on a stream (keepalive comments skipped), or null once it ended. */
async function nextMessage(reader: SseReader): Promise<any> {
  for (;;) {
    const event = await reader.next();
    if (!event) return null;
    if (event.data !== "") return JSON.parse(event.data);
  }
}

async function listenTasks(url: string, key: string | null, taskIds: string[], extra: Record<string, unknown> = {}) {
  const res = await taskFetch(url, key, "subscriptions/listen", { notifications: { taskIds, ...extra } });
  expect(res.status).toBe(200);
  const reader = new SseReader(res);
  const ack = await nextMessage(reader);
  expect(ack).toMatchObject({ method: "notifications/subscriptions/acknowledged", params: { _meta: { "io.modelcontextprotocol/subscriptionId": expect.anything() } } });
  return { reader, ack };
}

/** Task notifications of `reader` until one shows `status`; all of them, in order. */
async function until(reader: SseReader, status: string): Promise<any[]> {
  const seen: any[] = [];
  for (;;) {
    const message = await nextMessage(reader);
    if (!message) throw new Error(`the stream ended before ${status}: ${JSON.stringify(seen)}`);
    expect(message.method).toBe("notifications/tasks");
    seen.push(message.params);
    if (message.params.status === status) return seen;
  }
}

describe("task status notifications", () => {
  it("tasks:notifications — a task's owner hears working → input_required → completed on its listen stream, each as tasks/get shows it, and the stream then ends", async () => {
    const t = await provisionTenant({ prefix: "tn-own", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const taskId = await startTask(url, t.key, "confirm_delete", { filename: "n.txt" });
    const { reader, ack } = await listenTasks(url, t.key, [taskId, "task_made-up"]);
    // Only the caller's own, existing tasks are watched.
    expect(ack.params.notifications).toEqual({ taskIds: [taskId] });

    const waiting = (await until(reader, "input_required")).at(-1);
    expect(waiting).toMatchObject({ taskId, inputRequests: { confirm: { method: "elicitation/create" } }, _meta: { "io.modelcontextprotocol/subscriptionId": expect.anything() } });
    const { _meta, ...shown } = waiting;
    const { resultType, _meta: getMeta, ...got } = await taskCall(url, t.key, "tasks/get", { taskId });
    expect(resultType).toBe("complete");
    expect(shown).toEqual(got);

    await taskCall(url, t.key, "tasks/update", { taskId, inputResponses: { confirm: { action: "accept", content: { ok: true } } } });
    const after = await until(reader, "completed");
    expect(after.map((n) => n.status).filter((s) => s !== "completed").every((s) => s === "working")).toBe(true);
    expect(after.at(-1)).toMatchObject({ taskId, status: "completed", result: { content: [{ type: "text", text: "Deleted n.txt" }] } });
    // Nothing more can come: the stream ends with the empty subscriptions/listen result.
    const closing = await nextMessage(reader);
    expect(closing).toMatchObject({ result: { resultType: "complete", _meta: { "io.modelcontextprotocol/subscriptionId": ack.params._meta["io.modelcontextprotocol/subscriptionId"] } } });
    expect(await nextMessage(reader)).toBeNull();
  });

  it("tasks:notifications tasks:principal isolation:tenants — another key or tenant naming the task is not acknowledged for it and hears nothing; the owner hears it cancelled", async () => {
    const t = await provisionTenant({ prefix: "tn-iso", servers: ["everything"] });
    const other = await newKey(t.tenant);
    const stranger = await provisionTenant({ prefix: "tn-str", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const taskId = await startTask(url, t.key, "slow_compute", { seconds: 60 });

    const owner = await listenTasks(url, t.key, [taskId], { toolsListChanged: true });
    expect(owner.ack.params.notifications).toEqual({ toolsListChanged: true, taskIds: [taskId] });
    expect((await until(owner.reader, "working")).at(-1)).toMatchObject({ taskId });
    for (const [key, at] of [[other.key, url], [stranger.key, mcpUrl(stranger.tenant, "everything")]] as const) {
      const outsider = await listenTasks(at, key, [taskId]);
      expect(outsider.ack.params.notifications).toEqual({ taskIds: [] });
      // Watching nothing, the stream ends at once, with no task notification.
      expect(await nextMessage(outsider.reader)).toMatchObject({ result: { resultType: "complete" } });
      expect(await nextMessage(outsider.reader)).toBeNull();
    }

    await taskCall(url, t.key, "tasks/cancel", { taskId });
    expect((await until(owner.reader, "cancelled")).at(-1)).toMatchObject({ taskId, status: "cancelled" });
    // The list-change part of the filter still holds the stream open, and is served from the same bus.
    await taskCall(url, t.key, "tools/call", { name: "test_trigger_tool_change", arguments: {} });
    expect(await nextMessage(owner.reader)).toMatchObject({ method: "notifications/tools/list_changed" });
    await owner.reader.cancel();
  });

  it("tasks:notifications — asking for task ids without the extension is -32021; malformed task ids are -32602", async () => {
    const t = await provisionTenant({ prefix: "tn-bad", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const refused = await expectRpcError(await statelessFetch(url, t.key, "subscriptions/listen", { notifications: { taskIds: ["task_x"] } }), 200, -32021);
    expect(refused.message).toMatch(/io\.modelcontextprotocol\/tasks/);
    await expectRpcError(await taskFetch(url, t.key, "subscriptions/listen", { notifications: { taskIds: "task_x" } }), 200, -32602);
    await expectRpcError(await taskFetch(url, t.key, "subscriptions/listen", { notifications: { taskIds: Array.from({ length: 65 }, (_, i) => `task_${i}`) } }), 200, -32602);
  });
});

describe("a revoked credential's listen streams", () => {
  /** Every message of `reader` until its stream ends. */
  async function rest(reader: SseReader): Promise<any[]> {
    const seen: any[] = [];
    for (let m = await nextMessage(reader); m; m = await nextMessage(reader)) seen.push(m);
    return seen;
  }

  it("auth:revoke-10s tasks:notifications — revoking a key ends its open listen streams (task and list-change ones) with an error for the listen's id; another key's stream stays open and hears the next change", async () => {
    const t = await provisionTenant({ prefix: "tn-rev", servers: ["everything"] });
    const other = await newKey(t.tenant);
    const url = mcpUrl(t.tenant, "everything");
    // Opened first, so it has re-checked its (valid) key by the time the revoked key's streams end.
    const kept = await taskFetch(url, other.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
    expect(kept.status).toBe(200);
    const keptReader = new SseReader(kept);
    expect((await nextMessage(keptReader)).method).toBe("notifications/subscriptions/acknowledged");

    const taskId = await startTask(url, t.key, "confirm_delete", { filename: "r.txt" });
    // Watching list changes too, so the stream would not end just because its task is over.
    const { reader: taskStream } = await listenTasks(url, t.key, [taskId], { toolsListChanged: true });
    const plain = await taskFetch(url, t.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
    const plainReader = new SseReader(plain);
    expect((await nextMessage(plainReader)).method).toBe("notifications/subscriptions/acknowledged");

    await adminOk("DELETE", `/tenants/${t.tenant}/keys/${t.keyId}`);
    for (const reader of [taskStream, plainReader]) {
      const last = (await rest(reader)).at(-1);
      expect(last).toMatchObject({ jsonrpc: "2.0", id: expect.anything(), error: { code: -32600, message: expect.stringMatching(/revoked/) } });
    }
    await busStub(t.tenant, "everything").publish({ kind: "tools_list_changed" });
    expect(await nextMessage(keptReader)).toMatchObject({ method: "notifications/tools/list_changed" });
    await keptReader.cancel();
  });
});

