/**
 * The contract between the platform and an MCP server module.
 *
 * A server module is a factory: given the context of one tenant and one server, it
 * returns a fresh `McpServer` with its tools, resources and prompts registered. The
 * platform calls it once per session (session lane) or per request (stateless lane),
 * so a module must keep no state of its own between calls: anything that must last
 * goes through `ctx.store`, which is scoped to the tenant and the server.
 */
import type { McpServer } from "@modelcontextprotocol/server";

/** One stored record of a server's tool data. */
export interface StoredRecord {
  id: string;
  value: unknown;
  updatedAt: number;
}

/**
 * Tool data of one tenant and one server, kept in the tenant's Durable Object.
 * Collections are free-form names chosen by the server module; no module can reach
 * another tenant's data or another server's collections through it.
 */
export interface ToolDataStore {
  put(collection: string, id: string, value: unknown): Promise<void>;
  get(collection: string, id: string): Promise<StoredRecord | null>;
  list(collection: string, options?: { limit?: number; after?: string }): Promise<StoredRecord[]>;
  /** Case-insensitive substring search over the JSON text of each value. */
  search(collection: string, text: string, options?: { limit?: number }): Promise<StoredRecord[]>;
  delete(collection: string, id: string): Promise<boolean>;
}

/**
 * Publishes list-changed events to open `subscriptions/listen` streams of the
 * stateless lane (2026-07-28): only those of the same tenant and server (the
 * platform gives each tenant's server its own bus). On 2025 sessions, servers
 * notify their session directly.
 */
export interface ChangeNotifier {
  toolsChanged(): void;
  promptsChanged(): void;
  resourcesChanged(): void;
  resourceUpdated(uri: string): void;
}

export interface ServerContext {
  tenant: string;
  server: string;
  store: ToolDataStore;
  /** Present on the stateless lane. */
  notify?: ChangeNotifier;
}

/**
 * How one tool takes part in the 2026-07-28 Tasks extension: `optional` runs as a task
 * when the request declares the extension and synchronously otherwise; `required` refuses
 * a request without it (-32021). `createTask` (default: always) lets a tool answer some
 * rounds synchronously, for example the multi-round-trip that gathers its input.
 */
export interface TaskToolPolicy {
  support: "optional" | "required";
  createTask?: (params: { arguments?: unknown; inputResponses?: unknown }) => boolean;
}

export interface ServerModule {
  /** The `{server}` segment of `/mcp/{tenant}/{server}`. */
  name: string;
  title: string;
  version: string;
  create(ctx: ServerContext): McpServer;
  /** Tools the platform runs as tasks on the stateless lane, by name; absent: no tasks. */
  taskTools?: Readonly<Record<string, TaskToolPolicy>>;
}
