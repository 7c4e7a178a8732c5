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
import { TenantToolStore } from "../tool-store";
import { egressVerdict, type EgressVerdict } from "./egress";
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

export class SandboxStore extends WorkerEntrypoint<Env, StoreProps> {
  #store(): TenantToolStore {
    const { tenant, incarnation, server } = this.ctx.props;
    return new TenantToolStore(tenantStub(this.env, tenant), server, incarnation);
  }

  async put(collection: unknown, id: unknown, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError("value must be JSON-serialisable");
    if (json.length > SANDBOX_LIMITS.resultBytes) throw new RangeError(`value is larger than ${SANDBOX_LIMITS.resultBytes} bytes`);
    await this.#store().put(checkText(collection, "collection", MAX_COLLECTION), checkText(id, "id", MAX_ID), JSON.parse(json));
  }

  async get(collection: unknown, id: unknown): Promise<StoredRecord | null> {
    return this.#store().get(checkText(collection, "collection", MAX_COLLECTION), checkText(id, "id", MAX_ID));
  }

  async list(collection: unknown, options?: unknown): Promise<StoredRecord[]> {
    const after = (options as { after?: unknown } | undefined)?.after;
    if (after !== undefined && typeof after !== "string") throw new TypeError("after must be a string");
    return this.#store().list(checkText(collection, "collection", MAX_COLLECTION), { limit: checkLimit(options), after });
  }

  async search(collection: unknown, text: unknown, options?: unknown): Promise<StoredRecord[]> {
    return this.#store().search(checkText(collection, "collection", MAX_COLLECTION), checkText(text, "text", MAX_QUERY), {
      limit: checkLimit(options),
    });
  }

  async delete(collection: unknown, id: unknown): Promise<boolean> {
    return this.#store().delete(checkText(collection, "collection", MAX_COLLECTION), checkText(id, "id", MAX_ID));
  }
}

function refusal(reason: Extract<EgressVerdict, { ok: false }>["reason"], target: string, server: string, allow: string[]): string {
  switch (reason) {
    case "ip-literal":
      return `SMCP egress: ${target} is an IP address; a sandbox may fetch only host names on its allow-list`;
    case "loopback":
      return `SMCP egress: ${target} is a loopback host, which a sandbox may never fetch`;
    case "scheme":
    case "not-listed":
      return `SMCP egress: ${target} is not on the allow-list of server ${server}` + (allow.length ? ` (allowed: ${allow.join(", ")})` : "");
  }
}

export class SandboxEgress extends WorkerEntrypoint<Env, EgressProps> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { server, allow } = this.ctx.props;
    const verdict = egressVerdict(url, allow, { allowLoopback: platformConfig(this.env).SMCP_ALLOW_LOOPBACK_EGRESS });
    if (!verdict.ok) throw new Error(refusal(verdict.reason, `${url.protocol}//${url.host}`, server, allow));
    // A fresh request: no `cf` options (resolveOverride could point an allowed name
    // elsewhere) and no Host header. Redirects go back to the sandbox, whose fetch
    // follows them through here again, so every hop meets the allow-list.
    const headers = new Headers(request.headers);
    headers.delete("host");
    const body = request.method === "GET" || request.method === "HEAD" ? null : request.body;
    return fetch(url, { method: request.method, headers, body, redirect: "manual" });
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
