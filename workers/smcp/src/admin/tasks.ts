/**
 * `/admin/v1/tenants/{t}/tasks`: a tenant's tasks (2026-07-28 Tasks extension) for its
 * admins: list them (owner, status, times; never a task's call or result, which are its
 * owner's), and cancel one whoever owns it (audited).
 */
import { jsonResponse, wire } from "@smcp/runtime";
import type { Env } from "../env";
import { taskStubOf } from "../tasks/task-do";
import { requireTenant, unknownTenant } from "./tenants";
import { tenantStub } from "../env";

export async function listTasks(request: Request, env: Env, tenant: string): Promise<Response> {
  const { incarnation } = await requireTenant(env, tenant);
  const limit = Number(new URL(request.url).searchParams.get("limit") ?? 100);
  return jsonResponse({ tasks: await taskStubOf(env, tenant, incarnation).list(limit) });
}

export async function cancelTask(env: Env, tenant: string, taskId: string): Promise<Response> {
  const { incarnation } = await requireTenant(env, tenant);
  if (!/^task_[A-Za-z0-9_-]{1,64}$/.test(taskId)) throw noTask(taskId);
  if (!(await taskStubOf(env, tenant, incarnation).cancelByAdmin(taskId))) throw noTask(taskId);
  const audited = await tenantStub(env, tenant).taskCancelledByAdmin(taskId);
  if (!audited.ok) throw unknownTenant(tenant);
  return jsonResponse({ cancelled: taskId });
}

const noTask = (taskId: string) => wire.notFound("unknown_task", `No task ${taskId.slice(0, 80)} in this tenant`);
