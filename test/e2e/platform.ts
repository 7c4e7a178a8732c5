/**
 * A running SMCP for end-to-end tests: `wrangler dev` on a free port with its own
 * state directory (so it can be restarted with its Durable Objects intact), an admin
 * client, and helpers that connect the official SDK client on either lane.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client, StreamableHTTPClientTransport, type FetchLike } from "@modelcontextprotocol/client";
// @ts-expect-error plain ESM helpers shared with the scripts
import { startWrangler, stopWrangler } from "../../scripts/lib/wrangler.mjs";
// @ts-expect-error plain ESM helpers shared with the scripts
import { adminClient, provisionTenant } from "../../scripts/lib/admin-client.mjs";

export const ADMIN_TOKEN = "e2e-admin-token";
/** The platform key of deployed servers' secrets (32 bytes, base64url, as `pnpm dev` writes it). */
export const E2E_SECRETS_KEY = "Tu3JHuXgUbQaADLYBKsjY2DAScZ-6FhD07sRmHdvM5o";

export class Platform {
  port = 0;
  url = "";
  #child: unknown;
  #state = mkdtempSync(path.join(tmpdir(), "smcp-e2e-"));
  /** Added to wrangler's environment (for example NODE_EXTRA_CA_CERTS for an HTTPS server of the test). */
  readonly #env: Record<string, string>;
  /** Worker variables on top of the e2e defaults (for example a short upstream timeout). */
  readonly #vars: Record<string, string>;

  constructor(options: { env?: Record<string, string>; vars?: Record<string, string> } = {}) {
    this.#env = options.env ?? {};
    this.#vars = options.vars ?? {};
  }

  /** Where wrangler keeps this platform's Durable Object state (for a test that seeds storage while it is stopped). */
  get stateDir(): string {
    return this.#state;
  }

  async start(): Promise<void> {
    // A restart reuses the first port: the clients under test keep their URLs.
    const started = await startWrangler({
      port: this.port || undefined,
      persistTo: this.#state,
      env: this.#env,
      vars: { SMCP_ADMIN_TOKEN: ADMIN_TOKEN, SMCP_ALLOW_PUBLIC_TENANTS: "true", SMCP_ALLOW_LOOPBACK_EGRESS: "true", SMCP_SSE_RETRY_MS: "100", SMCP_SECRETS_KEY: E2E_SECRETS_KEY, ...this.#vars },
    });
    this.#child = started.child;
    this.url = started.url;
    this.port = started.port;
  }

  async stop(): Promise<void> {
    await stopWrangler(this.#child);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#state, { recursive: true, force: true });
  }

  admin() {
    return adminClient(this.url, ADMIN_TOKEN);
  }

  async tenant(id: string): Promise<{ tenant: string; key: string }> {
    return provisionTenant(this.admin(), id);
  }

  mcpUrl(tenant: string, server: string): URL {
    return new URL(`${this.url}/mcp/${tenant}/${server}`);
  }

  /** The SDK client on the session lane (2025-11-25) or the stateless lane (2026-07-28). */
  async connect(
    tenant: string,
    server: string,
    key: string,
    options: {
      lane?: "session" | "stateless";
      fetch?: FetchLike;
      /** What the client declares (sampling, elicitation, roots) … */
      capabilities?: Record<string, unknown>;
      /** … and its handlers for those requests, set before it connects. */
      setup?: (client: Client) => void;
      /** How many times the client retries a dropped stream (default 20, about 10 s: a restart of wrangler on a busy machine takes longer). */
      maxRetries?: number;
      /** The client's `clientInfo.name` (default smcp-e2e). */
      clientName?: string;
    } = {},
  ): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(this.mcpUrl(tenant, server), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
      reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: options.maxRetries ?? 20 },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const client = new Client(
      { name: options.clientName ?? "smcp-e2e", version: "1.0.0" },
      {
        ...(options.lane === "stateless" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
        ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      },
    );
    options.setup?.(client);
    await client.connect(transport);
    return { client, transport };
  }
}

/** The text of the first content block of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.find((c) => c.type === "text")?.text ?? "";
}
