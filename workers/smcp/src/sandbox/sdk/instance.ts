/**
 * One running instance of a deployed SDK server: an isolate of its own, loaded
 * through the Worker Loader, and the long-lived `open(host)` call that keeps it alive.
 *
 * The platform's half of the pipe is `InstanceHost`, an RpcTarget the instance calls
 * back: `next()` (client messages, as JSON text, in order), `send()` (one message of the
 * server's), `console()`, `ready()`, `failed()`, `exit()`. Every argument comes from
 * tenant code, so each is checked here before anything else sees it: a message is
 * size-capped, parsed, shape-checked as JSON-RPC; notifications are rate-capped (the
 * excess is dropped and counted); console lines are bounded. Nothing the host returns
 * to the instance is an object of the platform's.
 *
 * Each start gets a fresh loader id, so the tenant's module is evaluated again: a
 * module-level `server.connect(...)` in a stdio server's main runs once per instance.
 */
import { exports } from "cloudflare:workers";
import { RpcTarget } from "cloudflare:workers";
import { isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResponse, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/server";
import { TokenBucket, tenantIncarnationName } from "@smcp/runtime";
import type { FilesProps } from "../files/entrypoint";
import type { EgressProps } from "../entrypoints";
import { SANDBOX_COMPATIBILITY_DATE, SANDBOX_LIMITS } from "../limits";
import { runtimeMessage, type SandboxTarget } from "../client";
import { BOOT_MODULE, SDK_HARNESS_MODULE, SDK_HARNESS_SOURCE, STDIO_MODULE, STDIO_SOURCE } from "./harness";
import { FS_MODULE, FS_PROMISES_MODULE, FS_SOURCE, FS_PROMISES_SOURCE } from "../files";
import type { SdkBundle } from "./bundle-format";

/** Which deployed version runs, for whom: the isolate's name and its bindings come from here. */
export interface InstanceTarget extends Pick<SandboxTarget, "tenant" | "incarnation" | "server" | "version" | "hash" | "egress"> {
  /** Why this instance runs: a session id, `check` for a deploy's health check, `stateless` per request, `task` per task round. */
  purpose: string;
  /**
   * A 2026-07-28-era revision to serve the server on, without `initialize` (a task's round:
   * its input requests come back as an `input_required` result). The harness binds an SDK
   * server it builds itself to it; `servedRevision` says whether it could.
   */
  revision?: string;
}

export interface InstanceEvents {
  /** A checked message of the server's; `related` is the client request it belongs to, if the server said so. */
  message(message: JSONRPCMessage, related: RequestId | null): void;
  console(level: string, line: string): void;
  /** The instance is gone (start failed, it exited, crashed or was closed); `reason` says which. */
  ended(reason: string): void;
}

type Loopback<P> = (options: { props: P }) => Fetcher;
interface InstanceLoopbacks {
  SandboxFiles: Loopback<FilesProps>;
  SandboxEgress: Loopback<EgressProps>;
}

const CONSOLE_LEVELS = new Set(["debug", "info", "warning", "error"]);

/** The platform's end of the pipe: what only the platform may do (queue client messages, close). */
class Pipe {
  queue: string[] = [];
  waiter: ((batch: string[] | null) => void) | null = null;
  closed = false;
  dropped = 0;
  notifications = new TokenBucket(SANDBOX_LIMITS.notificationsPerSecond, Date.now(), SANDBOX_LIMITS.notificationBurst);
  consoleLines = new TokenBucket(SANDBOX_LIMITS.consoleLinesPerSecond, Date.now(), SANDBOX_LIMITS.consoleBurst);
  /** The revision the harness bound the server to (InstanceTarget.revision), if it could. */
  servedRevision: string | null = null;
  readonly started: Promise<void>;
  resolveStarted!: () => void;
  rejectStarted!: (reason: string) => void;

  constructor(readonly events: InstanceEvents) {
    this.started = new Promise<void>((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = (reason) => reject(new Error(reason));
    });
    this.started.catch(() => {});
  }

  push(text: string): void {
    if (this.closed) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = null;
      wake([text]);
    } else this.queue.push(text);
  }

  close(): void {
    this.closed = true;
    this.waiter?.(null);
    this.waiter = null;
  }
}

/**
 * What the tenant's isolate can call. Only prototype methods cross RPC; the pipe is a
 * private field, out of the tenant's reach.
 */
class InstanceHost extends RpcTarget {
  readonly #pipe: Pipe;

  constructor(pipe: Pipe) {
    super();
    this.#pipe = pipe;
  }

  next(): Promise<string[] | null> {
    const pipe = this.#pipe;
    if (pipe.closed) return Promise.resolve(null);
    if (pipe.queue.length) return Promise.resolve(pipe.queue.splice(0));
    return new Promise((resolve) => (pipe.waiter = resolve));
  }

  send(text: unknown, related: unknown): boolean {
    const pipe = this.#pipe;
    if (pipe.closed) return false;
    const message = checkMessage(text);
    if (!message) {
      const why = typeof text === "string" && text.length > SANDBOX_LIMITS.messageBytes ? `larger than ${SANDBOX_LIMITS.messageBytes} bytes` : "not a JSON-RPC message";
      pipe.events.console("error", `SMCP refused a message of the server: ${why}`);
      return false;
    }
    if (isJSONRPCNotification(message) && pipe.notifications.take(1, Date.now()).granted === 0) {
      // A flood is cut here, before the event log or the client sees it.
      if (pipe.dropped++ === 0) pipe.events.console("warning", `SMCP dropped notifications of the server: more than ${SANDBOX_LIMITS.notificationsPerSecond} a second`);
      return false;
    }
    pipe.events.message(message, typeof related === "string" || typeof related === "number" ? related : null);
    return true;
  }

  console(level: unknown, line: unknown): void {
    const pipe = this.#pipe;
    if (pipe.closed || typeof line !== "string") return;
    if (pipe.consoleLines.take(1, Date.now()).granted === 0) return;
    pipe.events.console(typeof level === "string" && CONSOLE_LEVELS.has(level) ? level : "info", line.slice(0, SANDBOX_LIMITS.maxLogChars));
  }

  ready(servedRevision?: unknown): void {
    if (typeof servedRevision === "string" && servedRevision.length <= 32) this.#pipe.servedRevision = servedRevision;
    this.#pipe.resolveStarted();
  }

  failed(reason: unknown): void {
    const text = typeof reason === "string" ? reason.slice(0, SANDBOX_LIMITS.maxLogChars) : "no reason given";
    this.#pipe.rejectStarted(`the server failed to start: ${text}`);
  }

  exit(code: unknown): void {
    const n = typeof code === "number" && Number.isInteger(code) ? code : 0;
    this.#pipe.rejectStarted(`the server exited (process.exit(${n})) while starting`);
    this.#pipe.events.ended(`the server called process.exit(${n})`);
  }

  closed(): void {
    this.#pipe.events.ended("the server closed its transport");
  }
}

/** The server's message, if it is one: bounded, JSON, and shaped like JSON-RPC. */
function checkMessage(text: unknown): JSONRPCMessage | null {
  if (typeof text !== "string" || text.length > SANDBOX_LIMITS.messageBytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return isJSONRPCRequest(value) || isJSONRPCNotification(value) || isJSONRPCResponse(value) ? (value as JSONRPCMessage) : null;
}

export class SandboxInstance {
  readonly #pipe: Pipe;
  #ended = false;

  private constructor(pipe: Pipe) {
    this.#pipe = pipe;
  }

  /**
   * Loads a fresh isolate of `bundle` and opens it. Resolves once the server has
   * connected its transport; rejects (and ends) with the reason when it cannot start.
   */
  static async start(
    env: { LOADER: WorkerLoader },
    target: InstanceTarget,
    bundle: SdkBundle,
    vars: Readonly<Record<string, string>>,
    events: InstanceEvents,
  ): Promise<SandboxInstance> {
    let instance: SandboxInstance | undefined;
    const pipe = new Pipe({
      message: (m, r) => events.message(m, r),
      console: (l, t) => events.console(l, t),
      ended: (reason) => {
        if (instance) instance.#end(reason, events);
      },
    });
    instance = new SandboxInstance(pipe);
    const host = new InstanceHost(pipe);
    const worker = env.LOADER.get(instanceId(target), () => instanceCode(target, bundle, vars));
    const entrypoint = worker.getEntrypoint("Instance", { limits: { cpuMs: SANDBOX_LIMITS.instanceCpuMs, subRequests: SANDBOX_LIMITS.instanceSubRequests } }) as unknown as {
      open(host: InstanceHost): Promise<void>;
    };
    // The instance lives as long as this call; however it ends, the instance ends with it.
    void Promise.resolve()
      .then(() => entrypoint.open(host))
      .then(
        () => instance.#end("the server's instance returned", events),
        (err) => instance.#end(`the server's instance crashed: ${runtimeMessage(err)}`, events),
      );
    let timer: number | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not start within ${SANDBOX_LIMITS.startTimeoutMs / 1000} s`)), SANDBOX_LIMITS.startTimeoutMs);
    });
    try {
      await Promise.race([pipe.started, timeout]);
    } catch (err) {
      instance.close();
      throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return instance;
  }

  /** The 2026-07-28-era revision the server is served on (no `initialize`), or null for a 2025-era one. */
  get servedRevision(): string | null {
    return this.#pipe.servedRevision;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Notifications dropped by the flood cap so far. */
  get dropped(): number {
    return this.#pipe.dropped;
  }

  send(message: JSONRPCMessage): void {
    if (!this.#ended) this.#pipe.push(JSON.stringify(message));
  }

  /** Ends the instance: its `next()` answers null and the harness returns, which lets the isolate go. */
  close(): void {
    this.#ended = true;
    this.#pipe.close();
    this.#pipe.rejectStarted("the instance was closed");
  }

  #end(reason: string, events: InstanceEvents): void {
    this.#pipe.rejectStarted(reason);
    if (this.#ended) return;
    this.#ended = true;
    this.#pipe.close();
    events.ended(reason);
  }
}

/** A fresh name per start: the tenant's module must be evaluated again for every instance. */
const instanceId = (t: InstanceTarget) =>
  `smcp-sdk:${tenantIncarnationName(t.tenant, t.incarnation)}/${t.server}/v${t.version}/${t.hash.slice(0, 16)}/${t.purpose}/${crypto.randomUUID()}`;

function instanceCode(target: InstanceTarget, bundle: SdkBundle, vars: Readonly<Record<string, string>>): WorkerLoaderWorkerCode {
  const loopbacks = exports as unknown as InstanceLoopbacks;
  const { tenant, incarnation, server } = target;
  const boot = { kind: bundle.kind, builtins: bundle.builtins, argv: bundle.argv, root: bundle.root, entry: bundle.entry, config: bundle.config ?? {}, files: bundle.files, revision: target.revision ?? null };
  return {
    compatibilityDate: SANDBOX_COMPATIBILITY_DATE,
    compatibilityFlags: [],
    mainModule: SDK_HARNESS_MODULE,
    modules: {
      [SDK_HARNESS_MODULE]: SDK_HARNESS_SOURCE,
      [STDIO_MODULE]: STDIO_SOURCE,
      [FS_MODULE]: FS_SOURCE,
      [FS_PROMISES_MODULE]: FS_PROMISES_SOURCE,
      [BOOT_MODULE]: { json: boot },
      "tenant.js": bundle.code,
    },
    // Strings become the server's process.env (its env, then its secrets, which win); FILES is its own files, nothing else.
    env: { ...bundle.env, ...vars, FILES: loopbacks.SandboxFiles({ props: { tenant, incarnation, server } }) },
    globalOutbound: loopbacks.SandboxEgress({ props: { tenant, server, allow: [...target.egress] } }),
    limits: { cpuMs: SANDBOX_LIMITS.instanceCpuMs, subRequests: SANDBOX_LIMITS.instanceSubRequests },
  };
}
