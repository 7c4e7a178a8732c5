/**
 * The capabilities a sandbox is handed, as platform-side entrypoints. They run in
 * the platform's isolate; the sandbox holds only a binding to them, created by the
 * platform with `props` the sandbox can read neither nor change.
 *
 * - `SandboxStore`: the server's `ToolDataStore`. Tenant and server come from
 *   `props`, never from arguments, so the only data it can name is its own.
 *   Arguments cross from untrusted code, so each is checked here.
 * - `SandboxEgress`: the sandbox's `globalOutbound`. Every `fetch()` the sandbox
 *   makes arrives here; only hosts on the server's allow-list go out, never an IP
 *   literal or a loopback host even if listed (egress.ts), redirects are handed back
 *   (so each hop is checked again), and raw sockets are closed unused.
 *
 * Only methods on a class's prototype are callable over RPC, so `env` and `ctx`
 * (the platform's bindings) are out of reach of the sandbox.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { platformConfig } from "@smcp/runtime";
import type { StoredRecord } from "@smcp/servers";
import { tenantStub, type Env } from "../env";
import { logEvent } from "../log";
import { TenantToolStore, ToolDataRefusal } from "../tool-store";
import { egressVerdict, reservedHostProblem, type EgressVerdict } from "./egress";
import { EGRESS_REFUSED_HEADER } from "./harness";
import { SANDBOX_LIMITS } from "./limits";

export interface StoreProps {
  tenant: string;
  incarnation: string;
  server: string;
}

export interface EgressProps {
  tenant: string;
  server: string;
  allow: string[];
}

const MAX_COLLECTION = 100;
const MAX_ID = 200;
const MAX_QUERY = 1_000;

function checkText(value: unknown, what: string, max: number): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new TypeError(`${what} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

function checkLimit(options: unknown): number | undefined {
  const limit = (options as { limit?: unknown } | undefined)?.limit;
  if (limit === undefined) return undefined;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) throw new TypeError("limit must be a positive integer");
  return Math.min(limit, 500);
}

/** What every `SandboxStore` method answers: errors are values, since a throw would cross RPC as the platform's uncaught exception. */
export type StoreAnswer<T> = { ok: true; value: T } | { ok: false; error: string };

async function answer<T>(work: () => Promise<T>): Promise<StoreAnswer<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    // The argument checks here and the store's quota refusals; nothing else is expected.
    if (!(err instanceof TypeError || err instanceof RangeError || err instanceof ToolDataRefusal)) throw err;
    return { ok: false, error: err.message };
  }
}

export class SandboxStore extends WorkerEntrypoint<Env, StoreProps> {
  #store(): TenantToolStore {
    const { tenant, incarnation, server } = this.ctx.props;
    return new TenantToolStore(tenantStub(this.env, tenant), server, incarnation);
  }

  async put(collection: unknown, id: unknown, value: unknown): Promise<StoreAnswer<null>> {
    return answer(async () => {
      const json = JSON.stringify(value);
      if (json === undefined) throw new TypeError("value must be JSON-serialisable");
      if (json.length > SANDBOX_LIMITS.resultBytes) throw new RangeError(`value is larger than ${SANDBOX_LIMITS.resultBytes} bytes`);
      await this.#store().put(checkText(collection, "collection", MAX_COLLECTION), checkText(id, "id", MAX_ID), JSON.parse(json));
      return null;
    });
  }

  async get(collection: unknown, id: unknown): Promise<StoreAnswer<StoredRecord | null>> {
    return answer(() => this.#store().get(checkText(collection, "collection", MAX_COLLECTION), checkText(id, "id", MAX_ID)));
  }

  async list(collection: unknown, options?: unknown): Promise<StoreAnswer<StoredRecord[]>> {
    return answer(() => {
      const after = (options as { after?: unknown } | undefined)?.after;
      if (after !== undefined && typeof after !== "string") throw new TypeError("after must be a string");
      return this.#store().list(checkText(collection, "collection", MAX_COLLECTION), { limit: checkLimit(options), after });
    });
  }

  async search(collection: unknown, text: unknown, options?: unknown): Promise<StoreAnswer<StoredRecord[]>> {
    return answer(() =>
      this.#store().search(checkText(collection, "collection", MAX_COLLECTION), checkText(text, "text", MAX_QUERY), { limit: checkLimit(options) }),
    );
  }

  async delete(collection: unknown, id: unknown): Promise<StoreAnswer<boolean>> {
    return answer(() => this.#store().delete(checkText(collection, "collection", MAX_COLLECTION), checkText(id, "id", MAX_ID)));
  }
}

/** The admin call that sets a server's allow-list to its list plus `host`, ready to paste. */
const allowCall = (tenant: string, server: string, allow: readonly string[], host: string) =>
  `PUT /admin/v1/tenants/${tenant}/servers/${server}/egress ${JSON.stringify({ allow: [...allow, host] })}`;

function refusal(reason: Extract<EgressVerdict, { ok: false }>["reason"], url: URL, props: EgressProps): string {
  const target = `${url.protocol}//${url.host}`;
  const { tenant, server, allow } = props;
  switch (reason) {
    case "ip-literal":
      return `SMCP egress: ${target} is an IP address; a sandbox may fetch only host names on its allow-list`;
    case "loopback":
      return `SMCP egress: ${target} is a loopback host, which a sandbox may never fetch`;
    case "scheme":
      return `SMCP egress: ${target} is not http or https; a sandbox may fetch only http(s) URLs of hosts on its allow-list`;
    case "not-listed":
      return allow.length
        ? `SMCP egress: ${target} is not on the allow-list of server ${server} (allowed: ${allow.join(", ")}); to allow it: ${allowCall(tenant, server, allow, url.host)}`
        : `SMCP egress: ${target} is not on the allow-list of server ${server}, which allows no host yet; to allow it: ${allowCall(tenant, server, allow, url.host)}`;
  }
}

/**
 * A refusal as the sandbox's `fetch()` receives it: a Response (a throw here would
 * cross RPC and be logged by the runtime as an uncaught exception of the platform),
 * marked so that the harness's `fetch` turns it into a rejected fetch with this text.
 * Tenant code that bypasses the harness still gets the text as the body of a 403/502.
 */
function refused(status: 403 | 502, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8", [EGRESS_REFUSED_HEADER]: "1" } });
}

export class SandboxEgress extends WorkerEntrypoint<Env, EgressProps> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const verdict = egressVerdict(url, this.ctx.props.allow, { allowLoopback: platformConfig(this.env).SMCP_ALLOW_LOOPBACK_EGRESS });
    if (!verdict.ok) return refused(403, refusal(verdict.reason, url, this.ctx.props));
    // A fresh request: no `cf` options (resolveOverride could point an allowed name
    // elsewhere) and no Host header. Redirects go back to the sandbox, whose fetch
    // follows them through here again, so every hop meets the allow-list.
    const headers = new Headers(request.headers);
    headers.delete("host");
    const body = request.method === "GET" || request.method === "HEAD" ? null : request.body;
    const unreachable = `SMCP egress: ${url.protocol}//${url.host} is on the allow-list but could not be reached (no such host, or the connection failed)`;
    if (reservedHostProblem(url.hostname)) return refused(502, unreachable);
    let upstream: Response;
    try {
      upstream = await fetch(url, { method: request.method, headers, body, redirect: "manual" });
    } catch {
      // The runtime's own text here is "internal error; reference = …", which says nothing.
      return refused(502, unreachable);
    }
    // An upstream cannot pose as a refusal.
    const answer = new Response(upstream.body, upstream);
    answer.headers.delete(EGRESS_REFUSED_HEADER);
    return answer;
  }

  /**
   * A socket the sandbox opened with `connect()`: closed at once, never forwarded, so
   * not one byte leaves (the sandbox's first read or write fails). Sockets are not
   * allowed even to allow-listed hosts: only HTTP requests can be checked by host.
   */
  async connect(socket: Socket): Promise<void> {
    const { tenant, server } = this.ctx.props;
    logEvent("warn", "sandbox socket refused", { tenant, server });
    await socket.close();
  }
}
