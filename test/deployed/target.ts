/**
 * Where the deployment tier runs: a real deployment when `SMCP_REMOTE_URL` is set (its
 * admin token in `SMCP_REMOTE_ADMIN_TOKEN`), else a local `wrangler dev` started here.
 * The same tests run against both; `local` tells the few that need the production
 * runtime's limits (CPU time, isolate memory) to skip, with the reason in their name.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
// @ts-expect-error plain ESM helpers shared with the scripts
import { startWrangler, stopWrangler } from "../../scripts/lib/wrangler.mjs";

export interface Target {
  url: string;
  adminToken: string;
  /** True under local `wrangler dev`: no CPU or memory limit is enforced there. */
  local: boolean;
  close(): Promise<void>;
}

export const REMOTE_URL = process.env.SMCP_REMOTE_URL?.replace(/\/+$/, "") || null;

/** Why the limit-dependent tests are skipped locally (hosting.md, "What local workerd can and cannot show"). */
export const LOCAL_NO_CPU_LIMIT = "skipped locally: workerd enforces no CPU limit, a spin would stall every isolate";
export const LOCAL_NO_MEMORY_LIMIT = "skipped locally: workerd enforces no isolate memory limit, a bomb would crash it";

export async function openTarget(): Promise<Target> {
  if (REMOTE_URL) {
    const adminToken = process.env.SMCP_REMOTE_ADMIN_TOKEN;
    if (!adminToken) throw new Error("SMCP_REMOTE_URL is set but SMCP_REMOTE_ADMIN_TOKEN is not: the tier creates and deletes its own tenants");
    const health = await fetch(`${REMOTE_URL}/healthz`);
    if (!health.ok) throw new Error(`${REMOTE_URL}/healthz answered ${health.status}`);
    return { url: REMOTE_URL, adminToken, local: false, close: async () => {} };
  }
  const state = mkdtempSync(path.join(tmpdir(), "smcp-deployed-"));
  const adminToken = `deployed-${randomBytes(16).toString("hex")}`;
  const { child, url } = await startWrangler({ persistTo: state, vars: { SMCP_ADMIN_TOKEN: adminToken } });
  return {
    url,
    adminToken,
    local: true,
    async close() {
      await stopWrangler(child);
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** The admin API of a target; `call` answers status and parsed body, never throws on a status. */
export function adminOf(target: Target) {
  async function call(method: string, apiPath: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: any }> {
    const res = await fetch(`${target.url}/admin/v1${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${target.adminToken}`, ...(body === undefined ? {} : { "content-type": contentType }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: parsed };
  }
  async function ok(method: string, apiPath: string, body?: unknown, status = 200, contentType?: string): Promise<any> {
    const res = await call(method, apiPath, body, contentType);
    if (res.status !== status) throw new Error(`${method} /admin/v1${apiPath}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
  return { call, ok };
}

/** A tenant id no earlier run used, so runs against one deployment never meet. */
export const uniqueTenant = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

/** The official SDK client on the session lane (2025-11-25) or the stateless lane (2026-07-28). */
export async function connect(target: Target, tenant: string, server: string, key: string, lane: "session" | "stateless" = "session"): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${target.url}/mcp/${tenant}/${server}`), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: "smcp-deployed-tier", version: "1.0.0" }, lane === "stateless" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {});
  await client.connect(transport);
  return client;
}
