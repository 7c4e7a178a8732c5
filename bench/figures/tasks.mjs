/**
 * A task's round trip on the stateless lane (2026-07-28 Tasks extension): the
 * `tools/call` of a task tool (`everything`'s `slow_compute` with `seconds: 0`)
 * from a client that declares the extension, answered with a task, then `tasks/get`
 * polled back to back until the task is `completed`. Each task is timed from the
 * `tools/call` sent to the `tasks/get` that says `completed`, one task at a time, so
 * the figure is the latency of one task through the tenant's TaskDO, not throughput.
 * Its baseline is the floor round trip.
 */
import { percentile } from "../lib/load.mjs";
import { statelessCall } from "../lib/mcp-wire.mjs";

const TASKS = { "io.modelcontextprotocol/tasks": {} };
/** A task that stays `working` this long fails the figure. */
const TASK_TIMEOUT_MS = 30_000;

/**
 * @param {import("../lib/targets.mjs").ToolRef} taskTool
 * @param {{ url: string, call: object }} templates  the stateless lane of the task tool's server
 */
export async function taskRoundTrip(taskTool, templates, plan) {
  let id = 1;
  const call = (method, params) => statelessCall(templates, id++, method, params, { extensions: TASKS });
  const once = async () => {
    const t0 = performance.now();
    const created = await call("tools/call", { name: taskTool.name, arguments: taskTool.args });
    const t1 = performance.now();
    if (created.resultType !== "task" || !created.taskId) throw new Error(`${taskTool.name} answered without a task: ${JSON.stringify(created).slice(0, 200)}`);
    for (let polls = 1; ; polls++) {
      const task = await call("tasks/get", { taskId: created.taskId });
      if (task.status === "completed") return { ms: performance.now() - t0, createMs: t1 - t0, polls };
      if (task.status !== "working") throw new Error(`task ${created.taskId} ended ${task.status}: ${JSON.stringify(task.error ?? task).slice(0, 200)}`);
      if (performance.now() - t0 > TASK_TIMEOUT_MS) throw new Error(`task ${created.taskId} stayed working for ${TASK_TIMEOUT_MS / 1000} s`);
    }
  };
  for (let i = 0; i < Math.min(5, plan.tasks); i++) await once();
  const runs = [];
  for (let i = 0; i < plan.tasks; i++) runs.push(await once());
  const took = runs.map((r) => r.ms);
  return {
    tasks: runs.length,
    p50: percentile(took, 0.5),
    p99: percentile(took, 0.99),
    createP50: percentile(runs.map((r) => r.createMs), 0.5),
    pollsPerTask: runs.reduce((n, r) => n + r.polls, 0) / runs.length,
  };
}
