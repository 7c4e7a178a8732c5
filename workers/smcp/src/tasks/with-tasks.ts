/**
 * The Tasks extension (2026-07-28, SEP-2663) on a server module's `McpServer`, for the
 * stateless lane. `@modelcontextprotocol/ext-tasks` 0.2.2 has no server side for this
 * revision (only a requester and a 2025-11-25 receiver), so the platform supplies it
 * through the SDK's own seams: `registerCapabilities` for the advertisement, custom
 * request handlers for `tasks/get`, `tasks/update` and `tasks/cancel` (the SDK checks
 * their `Mcp-Name` header against `params.taskId` and frames their answers), and a
 * handler in front of `tools/call` that turns a call of a task tool into a task in the
 * tenant's TaskDO. `tasks/result` and `tasks/list` (removed in this revision) stay
 * unregistered, so the SDK answers -32601.
 *
 * Which tools run as tasks is the module's `taskTools`; the module's handlers stay plain
 * tools (TaskDO runs them, see run-round.ts).
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext as McpContext,
} from "@modelcontextprotocol/server";
import type { TaskToolPolicy } from "@smcp/servers";
import { z } from "zod";
import type { CreateOutcome } from "./task-do";
import { TASKS_EXTENSION, type TaskCall, type TaskView } from "./task-record";

/** The tenant's TaskDO as seen by one request: already bound to that request's principal. */
export interface TaskHost {
  create(call: TaskCall): Promise<CreateOutcome>;
  get(taskId: string): Promise<TaskView | null>;
  update(taskId: string, inputResponses: Record<string, unknown>): Promise<boolean>;
  cancel(taskId: string): Promise<boolean>;
}

/** The part of the SDK's registered tool this reads and sets (as strict-tool-calls.ts does). */
interface RegisteredToolView {
  execution?: Record<string, unknown>;
  inputSchema?: { "~standard": { validate(value: unknown): Promise<{ issues?: readonly unknown[] }> | { issues?: readonly unknown[] } } };
}

type RawRequest = { params?: Record<string, unknown> & { name?: unknown; _meta?: Record<string, unknown> } };
type Handler = (request: RawRequest, ctx: McpContext) => Promise<unknown>;

const taskIdParams = z.looseObject({ taskId: z.string().min(1).max(256) });
// The SDK lifts `inputResponses` out of the params into `ctx.mcpReq.inputResponses` (multi-round-trip).
const updateParams = z.looseObject({ taskId: z.string().min(1).max(256) });

const requiredCapabilities = { extensions: { [TASKS_EXTENSION]: {} } };

/** Whether this request declared the tasks extension in its `_meta` client capabilities. */
function declaresTasks(ctx: McpContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, { extensions?: Record<string, unknown> } | undefined> | undefined;
  return envelope?.[CLIENT_CAPABILITIES_META_KEY]?.extensions?.[TASKS_EXTENSION] !== undefined;
}

function requireTasks(ctx: McpContext, method: string): void {
  if (!declaresTasks(ctx)) {
    throw new MissingRequiredClientCapabilityError(
      { requiredCapabilities },
      `${method} needs the ${TASKS_EXTENSION} extension: declare it in _meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions`,
    );
  }
}

const unknownTask = (taskId: string) =>
  new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task ${taskId.slice(0, 64)}: it expired, or it is not one of this caller's tasks`);

/** Adds the Tasks extension to `server` for the tools in `policies`; a server without task tools is left as it is. */
export function withTasks(server: McpServer, policies: Readonly<Record<string, TaskToolPolicy>> | undefined, host: TaskHost): McpServer {
  if (!policies || Object.keys(policies).length === 0) return server;
  const internals = server.server as unknown as { _getRequestHandler(method: string): Handler | undefined; _requestHandlers: Map<string, Handler> };
  const toolsCall = internals._getRequestHandler("tools/call");
  if (!toolsCall) return server;
  server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } });
  // tools/list says which tools may become tasks (`execution.taskSupport`, read by requesters).
  const tools = (server as unknown as { _registeredTools: Record<string, RegisteredToolView | undefined> })._registeredTools;
  for (const [name, policy] of Object.entries(policies)) {
    const tool = Object.hasOwn(tools, name) ? tools[name] : undefined;
    if (tool) tool.execution = { ...tool.execution, taskSupport: policy.support };
  }

  internals._requestHandlers.set("tools/call", async (request, ctx) => {
    const params = request.params ?? {};
    const name = params.name;
    const policy = typeof name === "string" && Object.hasOwn(policies, name) ? policies[name] : undefined;
    if (!policy) return toolsCall(request, ctx);
    if (!declaresTasks(ctx)) {
      if (policy.support === "required") {
        throw new MissingRequiredClientCapabilityError({ requiredCapabilities }, `Tool ${String(name)} runs only as a task: declare the ${TASKS_EXTENSION} extension`);
      }
      return toolsCall(request, ctx);
    }
    // Bad arguments are the caller's -32602 now (the SDK handler's own check), not a failed task later.
    const schema = tools[name as string]?.inputSchema;
    if (schema && (await schema["~standard"].validate(params.arguments ?? {})).issues?.length) return toolsCall(request, ctx);
    const inputResponses = ctx.mcpReq.inputResponses ?? params.inputResponses;
    if (policy.createTask && !policy.createTask({ arguments: params.arguments, inputResponses })) return toolsCall(request, ctx);
    const created = await host.create({
      name: name as string,
      arguments: params.arguments,
      ...(isRecord(inputResponses) ? { inputResponses } : {}),
      ...(typeof params.requestState === "string" ? { requestState: params.requestState } : {}),
      meta: (ctx.mcpReq.envelope as Record<string, unknown> | undefined) ?? {},
    });
    if (!created.ok) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `This tenant holds ${created.cap} tasks, its limit: wait for some to expire (ttlMs) or ask an admin to raise SMCP_MAX_TASKS_PER_TENANT`,
      );
    }
    return created.task;
  });

  server.server.setRequestHandler("tasks/get", { params: taskIdParams }, async (params, ctx) => {
    requireTasks(ctx, "tasks/get");
    const task = await host.get(params.taskId);
    if (!task) throw unknownTask(params.taskId);
    return task;
  });
  server.server.setRequestHandler("tasks/update", { params: updateParams }, async (params, ctx) => {
    requireTasks(ctx, "tasks/update");
    const inputResponses = ctx.mcpReq.inputResponses ?? params.inputResponses;
    if (!isRecord(inputResponses)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, "tasks/update needs inputResponses: an object of answers keyed by the task's inputRequests keys");
    if (!(await host.update(params.taskId, inputResponses))) throw unknownTask(params.taskId);
    return {};
  });
  server.server.setRequestHandler("tasks/cancel", { params: taskIdParams }, async (params, ctx) => {
    requireTasks(ctx, "tasks/cancel");
    if (!(await host.cancel(params.taskId))) throw unknownTask(params.taskId);
    return {};
  });
  return server;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
