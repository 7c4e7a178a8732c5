/**
 * TaskDO: the tasks (2026-07-28 Tasks extension) of one tenant incarnation, in SQLite.
 *
 * Why a Durable Object of its own, named for the tenant: every call on a task (create,
 * `tasks/get`, `tasks/update`, `tasks/cancel`), from any isolate, reaches this one object,
 * so a task is strongly consistent (a `tasks/get` right after the create finds it) and
 * survives restarts. The task's work runs here too, so "is the work still running?" has
 * an exact answer: only this instance can be running it. A new instance therefore marks
 * every `working` task `failed` with a reason (its work was lost); `input_required`
 * tasks wait for answers and survive. Expiry runs on the object's alarm.
 *
 * Rules: a task belongs to the principal that created it (tenant, server, key or grant);
 * any other caller gets "not found", never "forbidden". Tasks per tenant, result bytes
 * and input rounds are bounded (platform config). Only the RPC methods below are
 * callable; the rest lives on `#impl`.
 *
 * Every change of a task's status (and of a waiting task's input requests) is published
 * to its server's ListenBusDO as a bare `task_status` event naming the task: the
 * `subscriptions/listen` streams that watch it, in any isolate, read its state from here
 * as its owner (tasks/task-listen.ts).
 *
 * What runs a task's rounds is its `runner`: a built-in module, or the version of a
 * deployed SDK server that was active when the task was created (its hash checked), in
 * a fresh instance per round, served on 2026-07-28 so that it can ask for input
 * (tasks/deployed-round.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { platformConfig } from "@smcp/runtime";
import { builtInServers, type ServerModule } from "@smcp/servers";
import { listenBusStub, tenantStub, type Env } from "../env";
import { logEvent } from "../log";
import { authInfoOf, incarnationOf, type Principal } from "../mcp/principal";
import { migrate, schemaVersion, type MigrationList } from "../storage/migrations";
import { resolveServerVersion } from "../sandbox/resolve-server";
import { isSdkModule } from "../sandbox/sdk/serving";
import { TenantToolStore } from "../tool-store";
import { runDeployedRound } from "./deployed-round";
import { runRound, type RoundOutcome } from "./run-round";
import {
  createTaskResult,
  detailedTask,
  isTerminal,
  mintTaskId,
  type CreatedTask,
  type JsonRpcErrorObject,
  type TaskCall,
  type TaskRow,
  type TaskRunner,
  type TaskView,
} from "./task-record";

/**
 * The schema as one numbered migration list (runner: storage/migrations.ts).
 * HOW TO ADD A STEP: append one entry at the END of `steps`; never edit, reorder or
 * remove a shipped step; update docs/storage-schema.md in the same commit.
 */
export const TASK_MIGRATIONS: MigrationList = {
  name: "TaskDO",
  steps: [
    // 1: the tasks, and the index the expiry alarm reads.
    `CREATE TABLE tasks (
       id TEXT PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL, status_message TEXT,
       call TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL, ttl_ms INTEGER NOT NULL, result TEXT, error TEXT,
       input_requests TEXT, input_responses TEXT, request_state TEXT, rounds INTEGER NOT NULL DEFAULT 0);
     CREATE INDEX tasks_expiry ON tasks (expires_at);`,
    // Append new steps here.
  ],
};

export const taskObjectName = (tenant: string, incarnation: string) => `tasks:${tenant}~${incarnation}`;

export const taskStub = (env: Env, principal: Principal) => taskStubOf(env, principal.tenant, incarnationOf(principal));

export const taskStubOf = (env: Env, tenant: string, incarnation: string) => env.TASKS.get(env.TASKS.idFromName(taskObjectName(tenant, incarnation)));

/** What an admin sees of a task. */
export interface AdminTaskView {
  taskId: string;
  server: string;
  keyId: string | null;
  grantId: string | null;
  status: string;
  statusMessage: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  inputRounds: number;
}

export type CreateOutcome = { ok: true; task: CreatedTask } | { ok: false; reason: "cap"; cap: number };

/** Why a task whose work this instance never ran failed. */
const LOST_WORK: JsonRpcErrorObject = {
  code: -32603,
  message: "The task's work was lost: the platform restarted while it ran. Call the tool again to start a new task.",
};

export class TaskDO extends DurableObject<Env> {
  readonly #impl: TaskImpl;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#impl = new TaskImpl(ctx, env);
  }

  /** Stores a new `working` task and starts its first round; answers once the task is durable. */
  async create(principal: Principal, call: TaskCall, runner: TaskRunner = { kind: "built-in" }): Promise<CreateOutcome> {
    return this.#impl.create(principal, call, runner);
  }

  /** The task as `tasks/get` shows it, or null when there is none for this principal. */
  async get(principal: Principal, taskId: string): Promise<TaskView | null> {
    return this.#impl.view(principal, taskId);
  }

  /** Records answers to pending input requests; false when there is no such task. */
  async update(principal: Principal, taskId: string, inputResponses: Record<string, unknown>): Promise<boolean> {
    return this.#impl.update(principal, taskId, inputResponses);
  }

  /** Cancels a task that has not finished (a finished one is left as it is); false when there is no such task. */
  async cancel(principal: Principal, taskId: string): Promise<boolean> {
    return this.#impl.cancel(principal, taskId);
  }

  /** The tenant's tasks for its admins, newest first: who owns each and where it stands, never its call or result. */
  async list(limit: number): Promise<AdminTaskView[]> {
    return this.#impl.list(Math.max(1, Math.min(500, Math.trunc(limit) || 100)));
  }

  /** An admin cancels a task of the tenant, whoever owns it; false when there is no such task. */
  async cancelByAdmin(taskId: string): Promise<boolean> {
    return this.#impl.cancelByAdmin(taskId);
  }

  /** Cancels every unfinished task of a revoked key or grant; answers how many. */
  async cancelOwnedBy(owner: { keyId: string } | { grantId: string }): Promise<number> {
    return this.#impl.cancelOwnedBy(owner);
  }

  override async alarm(): Promise<void> {
    await this.#impl.expire();
  }
}

const ownerOf = (p: Principal) => JSON.stringify({ tenant: p.tenant, incarnation: incarnationOf(p), server: p.server, keyId: p.keyId, grantId: p.grantId ?? null });

class TaskImpl {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  readonly #sql: SqlStorage;
  /** The rounds running in this instance, by task id. */
  readonly #running = new Map<string, AbortController>();

  constructor(ctx: DurableObjectState, env: Env) {
    this.#ctx = ctx;
    this.#env = env;
    this.#sql = ctx.storage.sql;
    // An object that never held a task stays without storage (a lookup of a made-up id writes nothing).
    if (schemaVersion(ctx.storage) === 0) return;
    migrate(ctx.storage, TASK_MIGRATIONS);
    // A new instance runs nothing yet: whatever was `working` lost its work.
    const lost = this.#sql.exec<{ id: string }>("SELECT id FROM tasks WHERE status = 'working'").toArray();
    this.#sql.exec("UPDATE tasks SET status = 'failed', error = ?, updated_at = ? WHERE status = 'working'", JSON.stringify(LOST_WORK), Date.now());
    if (lost.length > 0) logEvent("warn", "tasks lost their work on restart", { tasks: lost.length });
    for (const { id } of lost) this.#changed(id);
  }

  async create(principal: Principal, call: TaskCall, runner: TaskRunner): Promise<CreateOutcome> {
    migrate(this.#ctx.storage, TASK_MIGRATIONS);
    const config = platformConfig(this.#env);
    const now = Date.now();
    const held = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE expires_at > ?", now).one().n;
    if (held >= config.SMCP_MAX_TASKS_PER_TENANT) return { ok: false, reason: "cap", cap: config.SMCP_MAX_TASKS_PER_TENANT };
    const ttlMs = config.SMCP_TASK_TTL_SECONDS * 1000;
    const id = mintTaskId();
    this.#sql.exec(
      "INSERT INTO tasks (id, owner, status, call, created_at, updated_at, expires_at, ttl_ms) VALUES (?, ?, 'working', ?, ?, ?, ?, ?)",
      id, ownerOf(principal), JSON.stringify({ principal, call, runner }), now, now, now + ttlMs, ttlMs,
    );
    await this.#scheduleExpiry(now + ttlMs);
    this.#start(id);
    return { ok: true, task: createTaskResult(this.#row(id)!) };
  }

  view(principal: Principal, taskId: string): TaskView | null {
    const row = this.#owned(principal, taskId);
    return row ? detailedTask(row) : null;
  }

  update(principal: Principal, taskId: string, inputResponses: Record<string, unknown>): boolean {
    const row = this.#owned(principal, taskId);
    if (!row) return false;
    if (row.status !== "input_required") return true;
    const pending = JSON.parse(row.input_requests ?? "{}") as Record<string, unknown>;
    const gathered = JSON.parse(row.input_responses ?? "{}") as Record<string, unknown>;
    // Answers to keys the task did not ask for are ignored.
    for (const [key, value] of Object.entries(inputResponses)) {
      if (!Object.hasOwn(pending, key)) continue;
      gathered[key] = value;
      delete pending[key];
    }
    const answered = JSON.stringify(gathered);
    if (answered.length > platformConfig(this.#env).SMCP_MAX_TASK_RESULT_BYTES) {
      this.#fail(taskId, { code: -32602, message: "The task's input responses exceed the platform's bound" });
      return true;
    }
    const done = Object.keys(pending).length === 0;
    this.#sql.exec(
      "UPDATE tasks SET input_requests = ?, input_responses = ?, status = ?, updated_at = ? WHERE id = ?",
      done ? null : JSON.stringify(pending), done ? null : answered, done ? "working" : "input_required", Date.now(), taskId,
    );
    this.#changed(taskId);
    if (done) this.#start(taskId, gathered);
    return true;
  }

  cancel(principal: Principal, taskId: string): boolean {
    const row = this.#owned(principal, taskId);
    if (!row) return false;
    if (isTerminal(row.status)) return true;
    this.#sql.exec("UPDATE tasks SET status = 'cancelled', input_requests = NULL, input_responses = NULL, updated_at = ? WHERE id = ?", Date.now(), taskId);
    this.#running.get(taskId)?.abort();
    this.#changed(taskId);
    return true;
  }

  list(limit: number): AdminTaskView[] {
    if (schemaVersion(this.#ctx.storage) === 0) return [];
    return this.#sql
      .exec<{ id: string; owner: string; status: string; status_message: string | null; created_at: number; updated_at: number; expires_at: number; rounds: number }>(
        "SELECT id, owner, status, status_message, created_at, updated_at, expires_at, rounds FROM tasks ORDER BY created_at DESC LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => {
        const owner = JSON.parse(r.owner) as { server: string; keyId: string | null; grantId: string | null };
        return {
          taskId: r.id,
          server: owner.server,
          keyId: owner.keyId,
          grantId: owner.grantId,
          status: r.status,
          statusMessage: r.status_message,
          createdAt: r.created_at,
          updatedAt: r.updated_at,
          expiresAt: r.expires_at,
          inputRounds: r.rounds,
        };
      });
  }

  cancelByAdmin(taskId: string): boolean {
    if (schemaVersion(this.#ctx.storage) === 0) return false;
    const row = this.#row(taskId);
    if (!row) return false;
    if (isTerminal(row.status)) return true;
    this.#sql.exec("UPDATE tasks SET status = 'cancelled', status_message = ?, input_requests = NULL, input_responses = NULL, updated_at = ? WHERE id = ?", "cancelled by an admin", Date.now(), taskId);
    this.#running.get(taskId)?.abort();
    this.#changed(taskId);
    return true;
  }

  cancelOwnedBy(owner: { keyId: string } | { grantId: string }): number {
    if (schemaVersion(this.#ctx.storage) === 0) return 0;
    const [path, value] = "keyId" in owner ? ["$.keyId", owner.keyId] : ["$.grantId", owner.grantId];
    const ids = this.#sql
      .exec<{ id: string }>("SELECT id FROM tasks WHERE json_extract(owner, ?) = ? AND status IN ('working', 'input_required')", path, value)
      .toArray()
      .map((r) => r.id);
    for (const id of ids) {
      this.#sql.exec("UPDATE tasks SET status = 'cancelled', status_message = ?, input_requests = NULL, input_responses = NULL, updated_at = ? WHERE id = ?", "cancelled: its key or grant was revoked", Date.now(), id);
      this.#running.get(id)?.abort();
      this.#changed(id);
    }
    return ids.length;
  }

  /** Deletes expired tasks (stopping any still running) and sets the alarm for the next one. */
  async expire(): Promise<void> {
    if (schemaVersion(this.#ctx.storage) === 0) return;
    const now = Date.now();
    for (const { id } of this.#sql.exec<{ id: string }>("SELECT id FROM tasks WHERE expires_at <= ?", now).toArray()) {
      this.#running.get(id)?.abort();
    }
    this.#sql.exec("DELETE FROM tasks WHERE expires_at <= ?", now);
    const next = this.#sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM tasks").one().at;
    // The last task gone, the object holds nothing again (schema included).
    if (next === null) await this.#ctx.storage.deleteAll();
    else await this.#ctx.storage.setAlarm(next);
  }

  async #scheduleExpiry(at: number): Promise<void> {
    const current = await this.#ctx.storage.getAlarm();
    if (current === null || current > at) await this.#ctx.storage.setAlarm(at);
  }

  #row(taskId: string): TaskRow | null {
    if (schemaVersion(this.#ctx.storage) === 0) return null;
    return this.#sql.exec<TaskRow>("SELECT * FROM tasks WHERE id = ? AND expires_at > ?", taskId, Date.now()).toArray()[0] ?? null;
  }

  /** The task when `principal` owns it; anyone else (another key, server or grant) gets null, as for no task. */
  #owned(principal: Principal, taskId: string): TaskRow | null {
    const row = this.#row(taskId);
    return row?.owner === ownerOf(principal) ? row : null;
  }

  /** Runs the task's next round in the background; its outcome lands only if the task still waits for it. */
  #start(taskId: string, inputResponses?: Record<string, unknown>): void {
    const row = this.#row(taskId);
    if (!row) return;
    const { principal, call, runner } = JSON.parse(row.call) as { principal: Principal; call: TaskCall; runner?: TaskRunner };
    const round: TaskCall = { ...call, ...(inputResponses ? { inputResponses } : {}), ...(row.request_state !== null ? { requestState: row.request_state } : {}) };
    const abort = new AbortController();
    this.#running.set(taskId, abort);
    const store = new TenantToolStore(tenantStub(this.#env, principal.tenant), principal.server, incarnationOf(principal));
    const work = this.#moduleOf(principal, runner ?? { kind: "built-in" })
      .then((module): Promise<RoundOutcome> | RoundOutcome =>
        typeof module === "string"
          ? { kind: "error", error: { code: -32603, message: module } }
          : isSdkModule(module)
            ? runDeployedRound(module.sdk, round, abort.signal)
            : runRound(round, { tenant: principal.tenant, server: principal.server, module, store, authInfo: authInfoOf(principal), signal: abort.signal }),
      )
      .then((outcome) => {
        if (this.#running.get(taskId) === abort) this.#running.delete(taskId);
        this.#settle(taskId, outcome);
      })
      .catch((err: unknown) => logEvent("error", "task outcome not stored", { error: err instanceof Error ? err.message : String(err) }));
    this.#ctx.waitUntil(work);
  }

  /** The module that runs the task's rounds, or why there is none any more. */
  async #moduleOf(principal: Principal, runner: TaskRunner): Promise<ServerModule | string> {
    if (runner.kind === "built-in") return builtInServers.get(principal.server) ?? `Server ${principal.server} cannot run tasks`;
    const module = await resolveServerVersion(this.#env, principal.tenant, incarnationOf(principal), principal.server, runner.version);
    // The hash check: the same version number may name other code after a tenant was created again.
    if (!isSdkModule(module) || module.sdk.hash !== runner.hash) return `Version ${runner.version} of ${principal.server}, which this task ran on, is no longer deployed`;
    return module;
  }

  /** Tells the task's listen streams, in every isolate, that it changed (they read what changed from here). */
  #changed(taskId: string): void {
    const row = this.#sql.exec<{ owner: string }>("SELECT owner FROM tasks WHERE id = ?", taskId).toArray()[0];
    if (!row) return;
    const { tenant, incarnation, server } = JSON.parse(row.owner) as { tenant: string; incarnation: string; server: string };
    const published = listenBusStub(this.#env, tenant, incarnation, server)
      .publish({ kind: "task_status", taskId })
      .then((outcome) => {
        if (!outcome.ok) logEvent("warn", "task status not published", { reason: outcome.reason });
      })
      // The task's state is stored already; a listener that misses this still finds it by tasks/get.
      .catch((err: unknown) => logEvent("warn", "task status not published", { error: err instanceof Error ? err.message : String(err) }));
    this.#ctx.waitUntil(published);
  }

  #settle(taskId: string, outcome: RoundOutcome): void {
    const row = this.#row(taskId);
    // Cancelled or expired meanwhile: the outcome is dropped.
    if (!row || row.status !== "working") return;
    const config = platformConfig(this.#env);
    const now = Date.now();
    switch (outcome.kind) {
      case "complete": {
        const text = JSON.stringify(outcome.result);
        if (text.length > config.SMCP_MAX_TASK_RESULT_BYTES) {
          return this.#fail(taskId, { code: -32603, message: `The task's result (${text.length} bytes) exceeds the platform's bound of ${config.SMCP_MAX_TASK_RESULT_BYTES} bytes` });
        }
        this.#sql.exec("UPDATE tasks SET status = 'completed', result = ?, updated_at = ? WHERE id = ?", text, now, taskId);
        return this.#changed(taskId);
      }
      case "input_required": {
        const text = JSON.stringify(outcome.inputRequests);
        if (row.rounds + 1 > config.SMCP_MAX_TASK_INPUT_ROUNDS) {
          return this.#fail(taskId, { code: -32603, message: `The task asked for input more than ${config.SMCP_MAX_TASK_INPUT_ROUNDS} times` });
        }
        if (text.length > config.SMCP_MAX_TASK_RESULT_BYTES || Object.keys(outcome.inputRequests).length === 0) {
          return this.#fail(taskId, { code: -32603, message: "The task's input requests are empty or exceed the platform's bound" });
        }
        this.#sql.exec(
          "UPDATE tasks SET status = 'input_required', input_requests = ?, input_responses = NULL, request_state = ?, rounds = rounds + 1, updated_at = ? WHERE id = ?",
          text, outcome.requestState ?? null, now, taskId,
        );
        return this.#changed(taskId);
      }
      case "error":
        return this.#fail(taskId, outcome.error);
    }
  }

  #fail(taskId: string, error: JsonRpcErrorObject): void {
    const bounded = { code: error.code, message: error.message.slice(0, 2000), ...(error.data !== undefined && JSON.stringify(error.data).length < 4096 ? { data: error.data } : {}) };
    this.#sql.exec(
      "UPDATE tasks SET status = 'failed', error = ?, input_requests = NULL, input_responses = NULL, updated_at = ? WHERE id = ?",
      JSON.stringify(bounded), Date.now(), taskId,
    );
    this.#changed(taskId);
  }
}
