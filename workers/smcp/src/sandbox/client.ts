/**
 * The platform's side of a sandbox: load a deployed version into its own isolate
 * through the Worker Loader, and make one bounded call into it.
 *
 * An isolate is named by tenant and its incarnation, server, version, content hash, egress-list
 * revision and secrets revision, so a deploy, a rollback or a new allow-list gets a fresh isolate and an
 * old one is never reused for other code. What the isolate receives is decided
 * here and nowhere else: the harness, its JSON Schema validator and the tenant's
 * module, its own `STORE` capability, its tenant and server names, the server's own
 * secrets (opened just before loading, sandbox/secrets-env.ts), and the allow-list outbound
 * (`SandboxEgress`; with an empty list it lets nothing out). No platform binding, secret
 * or variable is passed, and the compatibility flags are empty (no `nodejs_compat`).
 *
 * A call is bounded three ways: CPU and subrequests by the runtime (`limits`), wall
 * time by a timer here, and the answer by reading at most `resultBytes` of it. Any
 * failure becomes a `SandboxFailure` whose message says what happened; the runtime's
 * own message is passed on as it is, never searched.
 */
import { exports } from "cloudflare:workers";
import { readBoundedBytes, tenantIncarnationName } from "@smcp/runtime";
import type { Env } from "../env";
import type { EgressProps, StoreProps } from "./entrypoints";
import { HARNESS_MODULE, HARNESS_SOURCE, JSON_SCHEMA_MODULE, TENANT_MODULE } from "./harness";
import { SANDBOX_COMPATIBILITY_DATE, SANDBOX_LIMITS } from "./limits";
import { JSON_SCHEMA_SOURCE } from "./vendor/json-schema.generated";

/** Which version of which server to run. */
export interface SandboxTarget {
  tenant: string;
  /** The tenant's incarnation: a tenant deleted and created again never meets the old one's isolates. */
  incarnation: string;
  server: string;
  version: number;
  hash: string;
  egress: readonly string[];
  egressRevision: number;
  /** The revision of the server's secrets: a changed secret gets a fresh isolate (never its values in the name). */
  secretsRevision: number;
}

/** What an isolate is loaded with: the tenant's module and its environment (its opened secrets, by name). */
export interface SandboxCode {
  source: string;
  vars: Readonly<Record<string, string>>;
}

export type SandboxOp = "/describe" | "/tools/call" | "/resources/read" | "/prompts/get";

export interface SandboxLog {
  level: string;
  message: string;
}

/**
 * What the harness answers. `tenant` means the tenant's handler threw (or its result
 * failed its outputSchema); `bundle` that the module is malformed; `invalid-params`
 * that the arguments failed the tool's inputSchema, checked in the sandbox.
 */
export type SandboxReply =
  | { ok: true; result?: unknown; manifest?: unknown; logs?: SandboxLog[] }
  | { ok: false; kind: SandboxErrorKind; error: string; logs?: SandboxLog[] };

const ERROR_KINDS = ["tenant", "bundle", "unknown", "invalid-params"] as const;
export type SandboxErrorKind = (typeof ERROR_KINDS)[number];

export type SandboxFailureKind = "crash" | "timeout" | "too-large" | "invalid-reply";

/** The sandbox did not answer properly: it crashed, hit a limit, took too long, or answered too much or nonsense. */
export class SandboxFailure extends Error {
  readonly kind: SandboxFailureKind;
  constructor(kind: SandboxFailureKind, message: string) {
    super(message);
    this.name = "SandboxFailure";
    this.kind = kind;
  }
}

type Loopback<P> = (options: { props: P }) => Fetcher;
interface SandboxLoopbacks {
  SandboxStore: Loopback<StoreProps>;
  SandboxEgress: Loopback<EgressProps>;
}

/** The isolate's name in the loader's cache. */
export const isolateId = (t: SandboxTarget) =>
  `smcp:${tenantIncarnationName(t.tenant, t.incarnation)}/${t.server}/v${t.version}/${t.hash.slice(0, 16)}/e${t.egressRevision}/s${t.secretsRevision}`;

/** The code and bindings of one sandbox isolate. */
function workerCode(target: SandboxTarget, { source, vars }: SandboxCode): WorkerLoaderWorkerCode {
  const loopbacks = exports as unknown as SandboxLoopbacks;
  const { tenant, incarnation, server } = target;
  return {
    compatibilityDate: SANDBOX_COMPATIBILITY_DATE,
    compatibilityFlags: [],
    mainModule: HARNESS_MODULE,
    modules: { [HARNESS_MODULE]: HARNESS_SOURCE, [JSON_SCHEMA_MODULE]: JSON_SCHEMA_SOURCE, [TENANT_MODULE]: source },
    // The secrets first: the platform's names are refused as secret names, and would win anyway.
    env: { ...vars, STORE: loopbacks.SandboxStore({ props: { tenant, incarnation, server } }), TENANT: tenant, SERVER: server },
    // Even with an empty allow-list: SandboxEgress refuses every host then, and says how to allow one.
    globalOutbound: loopbacks.SandboxEgress({ props: { tenant, server, allow: [...target.egress] } }),
    limits: { cpuMs: SANDBOX_LIMITS.cpuMs, subRequests: SANDBOX_LIMITS.subRequests },
  };
}

/**
 * Calls `op` in the sandbox of `target`. `load` (the module and its opened secrets) is
 * asked for only when the loader has no live isolate of that name (on first use, or
 * after eviction).
 */
export async function callSandbox(
  env: Env,
  target: SandboxTarget,
  load: () => Promise<SandboxCode>,
  op: SandboxOp,
  payload: unknown = {},
  maxBytes: number = SANDBOX_LIMITS.resultBytes,
): Promise<SandboxReply> {
  const worker = env.LOADER.get(isolateId(target), async () => workerCode(target, await load()));
  const entrypoint = worker.getEntrypoint(undefined, { limits: { cpuMs: SANDBOX_LIMITS.cpuMs, subRequests: SANDBOX_LIMITS.subRequests } });
  const abort = new AbortController();
  let timer: number | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new SandboxFailure("timeout", `gave no answer within ${SANDBOX_LIMITS.callTimeoutMs / 1000} s`));
    }, SANDBOX_LIMITS.callTimeoutMs);
  });
  try {
    const call = async () => {
      let response: Response;
      try {
        response = await entrypoint.fetch(`https://sandbox.smcp.internal${op}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(payload),
          signal: abort.signal,
        });
      } catch (err) {
        throw new SandboxFailure("crash", runtimeMessage(err));
      }
      const text = await readAnswer(response, maxBytes);
      return parseReply(text);
    };
    return await Promise.race([call(), timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** Calls into a bundle that is not stored yet: the health check of a deploy. */
export function checkInSandbox(env: Env, target: SandboxTarget, code: SandboxCode): Promise<SandboxReply> {
  return callSandbox(env, target, async () => code, "/describe", {}, SANDBOX_LIMITS.manifestBytes);
}

/** The answer's text, at most `maxBytes` of it; a stream that fails is a crash. */
async function readAnswer(response: Response, maxBytes: number): Promise<string> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readBoundedBytes(response.body, maxBytes);
  } catch (err) {
    throw new SandboxFailure("crash", runtimeMessage(err));
  }
  if (bytes === null) {
    throw new SandboxFailure("too-large", `answered more than ${maxBytes} bytes, the most one call may return; nothing of it was kept`);
  }
  return new TextDecoder().decode(bytes);
}

function parseReply(text: string): SandboxReply {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    throw new SandboxFailure("invalid-reply", "answered something that is not JSON");
  }
  const r = reply as { ok?: unknown; kind?: unknown; error?: unknown; logs?: unknown };
  if (typeof reply !== "object" || reply === null || typeof r.ok !== "boolean") {
    throw new SandboxFailure("invalid-reply", "answered JSON that is not a harness reply");
  }
  if (r.ok === false && (typeof r.error !== "string" || !(ERROR_KINDS as readonly unknown[]).includes(r.kind))) {
    throw new SandboxFailure("invalid-reply", "answered an error without a message");
  }
  return { ...(reply as SandboxReply), logs: cleanLogs(r.logs) };
}

function cleanLogs(logs: unknown): SandboxLog[] {
  if (!Array.isArray(logs)) return [];
  return logs
    .slice(0, SANDBOX_LIMITS.maxLogLines)
    .filter((l): l is SandboxLog => typeof l?.level === "string" && typeof l?.message === "string")
    .map((l) => ({ level: l.level, message: l.message.slice(0, SANDBOX_LIMITS.maxLogChars) }));
}

/** The runtime's message for a failed call, on one line and bounded; no stack. */
export function runtimeMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, " ").trim().slice(0, 500) || "failed without a message";
}
