/**
 * `subscriptions/listen` with task status notifications (2026-07-28 Tasks extension): a
 * listen whose `notifications` filter names `taskIds` is served here, not by the SDK's
 * listen router, which knows only the four change types and drops unknown filter fields.
 *
 * What the extension asks, and how it is met:
 * - The ack (`notifications/subscriptions/acknowledged`, first on the stream) lists the
 *   task ids the server agreed to watch: here only the caller's own unexpired tasks (read
 *   through the TaskDO as the listen's principal). Another key's or tenant's id is left
 *   out exactly as an unknown one, so a listen learns nothing a `tasks/get` would not.
 * - Each `notifications/tasks` carries the task's DetailedTask, as `tasks/get` would
 *   answer at that moment. The first one, right after the ack, is each watched task's
 *   current state: a client that listens after a change (or races one) still learns it.
 * - Asking for task ids without declaring the extension is -32021.
 * - The filter's list-change part is honoured as the SDK does (only what the server
 *   advertises), delivered from the same bus subscription.
 *
 * How a change gets here from any isolate: the TaskDO publishes a bare `task_status`
 * event (the task id) to the server's ListenBusDO; this stream's bus subscription, held
 * in this listen request, hears it and reads the task from the TaskDO again. Repeated
 * events of one task coalesce into one read, and a notification is sent only when what
 * `tasks/get` shows changed.
 *
 * Bounds: at most MAX_WATCHED_TASKS ids per listen; at most one pending read per watched
 * task; a client that stops reading is cut off after MAX_UNREAD frames (its stream
 * closes; it listens again and gets the current states). A stream that watches no list
 * changes ends gracefully (the empty `subscriptions/listen` result) once every watched
 * task has finished or expired: nothing more can come.
 */
import { CLIENT_CAPABILITIES_META_KEY, SUBSCRIPTION_ID_META_KEY, type ServerCapabilities } from "@modelcontextprotocol/server";
import { isTaskStatusEvent, type BusEvent, type ChangeEvent } from "../mcp/listen-bus-do";
import { TASKS_EXTENSION, isTerminal, type TaskView } from "./task-record";

/** Task ids one listen may watch. */
export const MAX_WATCHED_TASKS = 64;
const MAX_TASK_ID_CHARS = 256;
/** Frames a stream may hold unread before it is closed. */
const MAX_UNREAD = 256;

type RequestId = string | number;

/** The list-change part of a listen filter (the SDK's SubscriptionFilter). */
export interface ListFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

export type TaskListen = { kind: "sdk" } | { kind: "refused"; response: Response } | { kind: "tasks"; id: RequestId; lists: ListFilter; taskIds: string[] };

const rpcError = (id: RequestId | null, code: number, message: string, data?: unknown, status = 200) =>
  Response.json({ jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined ? { data } : {}) } }, { status });

/** Whether a listen asks for task notifications (then it is served here), and if it may. */
export function classifyListen(body: unknown, request: Request): TaskListen {
  const { id, params } = (body ?? {}) as { id?: unknown; params?: { notifications?: unknown; _meta?: Record<string, unknown> } };
  const filter = params?.notifications;
  if (typeof filter !== "object" || filter === null || !("taskIds" in filter)) return { kind: "sdk" };
  const rid = typeof id === "string" || typeof id === "number" ? id : null;
  if (rid === null) return { kind: "refused", response: rpcError(null, -32600, "subscriptions/listen needs a string or number id") };
  // The SDK checks this header on every other request (SEP-2243); a listen served here is no exception.
  if (request.headers.get("mcp-method") !== "subscriptions/listen") {
    return { kind: "refused", response: rpcError(rid, -32020, "The Mcp-Method header must be subscriptions/listen, as the body's method", undefined, 400) };
  }
  const { taskIds, ...rest } = filter as { taskIds?: unknown } & Record<string, unknown>;
  const ids = Array.isArray(taskIds) ? taskIds : null;
  if (!ids || ids.length > MAX_WATCHED_TASKS || !ids.every((t) => typeof t === "string" && t.length > 0 && t.length <= MAX_TASK_ID_CHARS)) {
    return {
      kind: "refused",
      response: rpcError(rid, -32602, `notifications.taskIds must be an array of at most ${MAX_WATCHED_TASKS} task ids (strings of at most ${MAX_TASK_ID_CHARS} characters)`),
    };
  }
  const lists = listFilterOf(rest);
  if (!lists) return { kind: "refused", response: rpcError(rid, -32602, "Invalid params: 'notifications' must be a valid SubscriptionFilter") };
  const capabilities = params?._meta?.[CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
  if (capabilities?.extensions?.[TASKS_EXTENSION] === undefined) {
    return {
      kind: "refused",
      response: rpcError(rid, -32021, `Task notifications need the ${TASKS_EXTENSION} extension: declare it in _meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions`, {
        requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
      }),
    };
  }
  return { kind: "tasks", id: rid, lists, taskIds: [...new Set(ids as string[])] };
}

function listFilterOf(raw: Record<string, unknown>): ListFilter | null {
  const out: ListFilter = {};
  for (const key of ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const) {
    if (raw[key] === undefined) continue;
    if (typeof raw[key] !== "boolean") return null;
    out[key] = raw[key];
  }
  if (raw.resourceSubscriptions !== undefined) {
    const uris = raw.resourceSubscriptions;
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === "string")) return null;
    out.resourceSubscriptions = uris;
  }
  return out;
}

/** What the server can deliver of the requested list changes (as the SDK's listen router narrows it). */
function honoredLists(requested: ListFilter, capabilities: ServerCapabilities): ListFilter {
  const honored: ListFilter = {};
  if (requested.toolsListChanged && capabilities.tools?.listChanged) honored.toolsListChanged = true;
  if (requested.promptsListChanged && capabilities.prompts?.listChanged) honored.promptsListChanged = true;
  if (requested.resourcesListChanged && capabilities.resources?.listChanged) honored.resourcesListChanged = true;
  if (requested.resourceSubscriptions?.length && capabilities.resources?.subscribe) honored.resourceSubscriptions = [...requested.resourceSubscriptions];
  return honored;
}

function changeNotification(filter: ListFilter, event: ChangeEvent): { method: string; params: Record<string, unknown> } | null {
  const params = (event.params ?? {}) as Record<string, unknown>;
  switch (event.kind) {
    case "tools_list_changed":
      return filter.toolsListChanged ? { method: "notifications/tools/list_changed", params } : null;
    case "prompts_list_changed":
      return filter.promptsListChanged ? { method: "notifications/prompts/list_changed", params } : null;
    case "resources_list_changed":
      return filter.resourcesListChanged ? { method: "notifications/resources/list_changed", params } : null;
    case "resource_updated":
      return filter.resourceSubscriptions?.includes(event.uri) ? { method: "notifications/resources/updated", params: { ...params, uri: event.uri } } : null;
  }
}

export interface TaskListenContext {
  capabilities: ServerCapabilities;
  /** The TaskDO bound to the listen's principal: only its own tasks are found. */
  getTask(taskId: string): Promise<TaskView | null>;
  /** The server's bus; the subscription is taken (and read) in this request. */
  subscribe(listener: (event: BusEvent) => void): () => void;
  signal: AbortSignal;
  onerror(error: Error): void;
}

/** What `tasks/get` would show has changed: the status, the update time or the pending input requests. */
const shownState = (task: TaskView) => `${task.status} ${task.lastUpdatedAt} ${Object.keys((task.inputRequests as object | undefined) ?? {}).join(",")}`;

/** The SSE response of a listen that watches tasks (`listen` from classifyListen). */
export async function serveTaskListen(listen: Extract<TaskListen, { kind: "tasks" }>, ctx: TaskListenContext): Promise<Response> {
  const lists = honoredLists(listen.lists, ctx.capabilities);
  /** Watched task ids, with what was last sent of each ("" before the first). */
  const watched = new Map<string, string>();
  const pending = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const encoder = new TextEncoder();

  const write = (text: string) => {
    if (closed) return;
    if ((controller.desiredSize ?? 0) < -MAX_UNREAD) {
      // The client stopped reading: close rather than queue without bound.
      teardown(false);
      return;
    }
    controller.enqueue(encoder.encode(text));
  };
  const notify = (method: string, params: Record<string, unknown>) =>
    write(`event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method, params: { ...params, _meta: { ...(params._meta as object | undefined), [SUBSCRIPTION_ID_META_KEY]: listen.id } } })}\n\n`);

  const teardown = (graceful: boolean) => {
    if (closed) return;
    if (graceful) write(`event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: listen.id, result: { resultType: "complete", _meta: { [SUBSCRIPTION_ID_META_KEY]: listen.id } } })}\n\n`);
    closed = true;
    unsubscribe();
    try {
      controller.close();
    } catch {
      // Already cancelled by the client.
    }
  };
  const endIfDone = () => {
    if (watched.size === 0 && Object.keys(lists).length === 0) teardown(true);
  };

  /** Reads the task again (once however many events asked) and sends it if what it shows changed. */
  const refresh = (taskId: string) => {
    if (closed || !watched.has(taskId) || pending.has(taskId)) return;
    pending.add(taskId);
    queue = queue
      .then(async () => {
        pending.delete(taskId);
        if (closed || !watched.has(taskId)) return;
        const task = await ctx.getTask(taskId);
        if (closed) return;
        if (!task) {
          watched.delete(taskId);
        } else {
          const shown = shownState(task);
          if (watched.get(taskId) !== shown) {
            watched.set(taskId, shown);
            notify("notifications/tasks", task);
          }
          if (isTerminal(task.status as never)) watched.delete(taskId);
        }
        endIfDone();
      })
      .catch((err: unknown) => ctx.onerror(err instanceof Error ? err : new Error(String(err))));
  };

  // Subscribed before the tasks are read: a change from here on is heard, one before is in what is read.
  const unsubscribe = ctx.subscribe((event) => {
    if (isTaskStatusEvent(event)) return refresh(event.taskId);
    const notification = changeNotification(lists, event);
    if (notification) notify(notification.method, notification.params);
  });
  let accepted: string[];
  try {
    const found = await Promise.all(listen.taskIds.map(async (id) => ((await ctx.getTask(id)) ? id : null)));
    accepted = found.filter((id): id is string => id !== null);
  } catch (err) {
    unsubscribe();
    throw err;
  }
  for (const id of accepted) watched.set(id, "");

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        notify("notifications/subscriptions/acknowledged", { notifications: { ...lists, taskIds: accepted } });
        for (const id of accepted) refresh(id);
        endIfDone();
      },
      cancel() {
        // The client went away: nothing more is sent, the bus subscription ends.
        closed = true;
        unsubscribe();
      },
    },
    { highWaterMark: 1 },
  );
  ctx.signal.addEventListener("abort", () => teardown(false), { once: true });
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" },
  });
}
