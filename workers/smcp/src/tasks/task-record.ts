/**
 * A task of the 2026-07-28 Tasks extension as TaskDO stores it, and the two wire shapes
 * made from it: the `CreateTaskResult` a task-augmented `tools/call` answers with and the
 * `DetailedTask` of `tasks/get`. Pure: no storage, no I/O.
 *
 * What must never reach the wire: the owner (principal), the stored call, the
 * multi-round-trip `requestState` and the answers gathered so far (SEP-2663 has no
 * `requestState` on a task).
 */
import { base64url } from "@smcp/runtime";

export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

export const isTerminal = (status: TaskStatus) => status === "completed" || status === "failed" || status === "cancelled";

/** How often a client should poll, in the task's `pollIntervalMs`. */
export const POLL_INTERVAL_MS = 1000;

/** The `tools/call` a task runs: everything needed to run (or re-run, with answers) one round. */
export interface TaskCall {
  name: string;
  arguments?: unknown;
  inputResponses?: Record<string, unknown>;
  requestState?: string;
  /** The request's `_meta` envelope (protocol version, client info and capabilities). */
  meta?: Record<string, unknown>;
}

/**
 * What runs a task's rounds: a built-in module, or one stored version of a deployed SDK
 * server (the version active when the task was created; the hash names its code).
 */
export type TaskRunner = { kind: "built-in" } | { kind: "deployed"; version: number; hash: string };

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** One row of `tasks` (docs/storage-schema.md). */
export interface TaskRow {
  id: string;
  owner: string;
  status: TaskStatus;
  status_message: string | null;
  call: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  ttl_ms: number;
  result: string | null;
  error: string | null;
  input_requests: string | null;
  input_responses: string | null;
  request_state: string | null;
  rounds: number;
  [key: string]: SqlStorageValue;
}

/** 192 random bits: a task id names the task and, with its owner, is all a caller has of it. */
export function mintTaskId(): string {
  return `task_${base64url(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** The fields every task shape carries. */
function taskFields(row: TaskRow) {
  return {
    taskId: row.id,
    status: row.status,
    ...(row.status_message ? { statusMessage: row.status_message } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    lastUpdatedAt: new Date(row.updated_at).toISOString(),
    ttlMs: row.ttl_ms,
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}

/** `CreateTaskResult`: flat `Result & Task`, no result, error or input requests. */
export function createTaskResult(row: TaskRow) {
  return { resultType: "task" as const, ...taskFields(row) };
}

/** `DetailedTask`: the task, with its result (completed), error (failed) or pending input requests (input_required). */
export function detailedTask(row: TaskRow) {
  const detail: Record<string, unknown> = { ...taskFields(row) };
  if (row.status === "completed" && row.result !== null) detail.result = JSON.parse(row.result);
  if (row.status === "failed" && row.error !== null) detail.error = JSON.parse(row.error);
  if (row.status === "input_required" && row.input_requests !== null) detail.inputRequests = JSON.parse(row.input_requests);
  return detail;
}

export type TaskView = ReturnType<typeof detailedTask>;
export type CreatedTask = ReturnType<typeof createTaskResult>;
