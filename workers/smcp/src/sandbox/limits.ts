/**
 * The bounds every deployed (tenant-written) server runs under. One place, so the
 * admin API, the sandbox client and the docs agree. They are platform constants,
 * not tenant settings: a tenant can only be given less, never more.
 */
export const SANDBOX_LIMITS = {
  /** Largest accepted module source, in UTF-8 bytes. Fits one SQLite row (2 MB) with room to spare. */
  bundleBytes: 1024 * 1024,
  /** CPU time per call into the sandbox (enforced by the Workers runtime; see docs/tenant-servers.md). */
  cpuMs: 200,
  /** Outbound requests per call (fetch through the egress allow-list). */
  subRequests: 20,
  /** Wall-clock time the platform waits for one call before it gives up on it. */
  callTimeoutMs: 30_000,
  /** Largest answer of one call (a tool result, a resource, a prompt, with its logs), in bytes. */
  resultBytes: 1024 * 1024,
  /** Largest manifest (the tools, resources and prompts a module declares), in bytes. */
  manifestBytes: 256 * 1024,
  /** Tools, resources and prompts per server, each. */
  maxItems: 64,
  /** Hosts on one server's egress allow-list. */
  maxEgressHosts: 32,
  /** Log lines one call may hand back, and characters per line. */
  maxLogLines: 50,
  maxLogChars: 2_000,
  /** Recent errors kept per server for the admin view. */
  keptErrors: 20,
} as const;

/** The Workers compatibility date every sandbox isolate runs with (no flags). */
export const SANDBOX_COMPATIBILITY_DATE = "2026-11-01";

/** How long an isolate trusts what it learned about a server's active deployment. */
export const ACTIVE_DEPLOYMENT_CACHE_MS = 5_000;

/** How often an isolate reports call counts to the tenant (errors are reported at once). */
export const STATS_FLUSH_MS = 5_000;
