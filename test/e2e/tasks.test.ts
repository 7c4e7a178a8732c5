// Tasks (2026-07-28 Tasks extension) across a `wrangler dev` restart: the task's state is
// in its tenant's TaskDO, on disk, so a finished task still answers with its result, a
// task waiting for input goes on once answered, and one that was working when the
// process died is `failed` with a reason. Raw HTTP as the extension's wire has it (the
// SDK client 2.4.0 has no requester side for tasks).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Platform } from "./platform";
import { TASKS_EXTENSION as TASKS, lastMessage, post2026 } from "./raw-2026";

const platform = new Platform();
let acme: { tenant: string; key: string };
let nextId = 1;

beforeAll(async () => {
  await platform.start();
  acme = await platform.tenant("tasks-e2e");
});
afterAll(() => platform.dispose());

async function call(method: string, params: Record<string, unknown>): Promise<any> {
  const res = await post2026(platform.mcpUrl(acme.tenant, "everything"), acme.key, method, params, { id: nextId++, capabilities: { elicitation: {}, extensions: { [TASKS]: {} } } });
  const { text, message: body } = await lastMessage(res);
  expect(body.error, text).toBeUndefined();
  return body.result;
}

async function until(taskId: string, leaves: string): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const task = await call("tasks/get", { taskId });
    if (task.status !== leaves) return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId} stayed ${leaves}`);
}

describe("tasks across a restart", () => {
  it("tasks:restart stateless:tasks — after wrangler dev restarts: a finished task returns its result, a waiting one goes on, a working one is failed with a reason", async () => {
    const finished = (await call("tools/call", { name: "slow_compute", arguments: { seconds: 0, label: "before" } })).taskId;
    expect((await until(finished, "working")).status).toBe("completed");
    const waiting = (await call("tools/call", { name: "confirm_delete", arguments: { filename: "e2e.txt" } })).taskId;
    expect((await until(waiting, "working")).status).toBe("input_required");
    const running = (await call("tools/call", { name: "slow_compute", arguments: { seconds: 300 } })).taskId;
    expect((await call("tasks/get", { taskId: running })).status).toBe("working");

    await platform.stop();
    await platform.start();

    expect(await call("tasks/get", { taskId: finished })).toMatchObject({ status: "completed", result: { content: [{ text: "Computed before after 0s" }] } });
    const lost = await call("tasks/get", { taskId: running });
    expect(lost).toMatchObject({ status: "failed", error: { code: -32603 } });
    expect(lost.error.message).toMatch(/work was lost/);
    await call("tasks/update", { taskId: waiting, inputResponses: { confirm: { action: "accept", content: { ok: true } } } });
    expect(await until(waiting, "working")).toMatchObject({ status: "completed", result: { content: [{ text: "Deleted e2e.txt" }] } });
  });
});
