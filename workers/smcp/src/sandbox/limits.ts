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

  // --- deployed SDK servers (sandbox/sdk/) ---
  /** Largest deploy body of an SDK server (its bundled code and package files), in bytes. */
  sdkBundleBytes: 10 * 1024 * 1024,
  /** All stored versions of all of a tenant's deployed servers, in bytes. */
  tenantBundleBytes: 100 * 1024 * 1024,
  /** Stored bundles are split into chunks of this size: a SQLite value holds about 2 MB. */
  chunkBytes: 1024 * 1024,
  /**
   * CPU time and subrequests of one instance, over its whole life: an instance is one
   * long call, so these are budgets per instance, not per request. A server that uses
   * them up is ended and rebuilt on the next request.
   */
  instanceCpuMs: 30_000,
  instanceSubRequests: 1_000,
  /** How long a server's start may take until it has connected its transport. */
  startTimeoutMs: 20_000,
  /** Largest JSON-RPC message a server may send, in bytes. */
  messageBytes: 1024 * 1024,
  /** Notifications a server may send: a second's rate and a burst; the rest are dropped. */
  notificationsPerSecond: 50,
  notificationBurst: 200,
  /** Console lines kept from a server: a second's rate and a burst. */
  consoleLinesPerSecond: 20,
  consoleBurst: 100,
  /** Console lines kept per server for its admin view. */
  keptConsoleLines: 50,
} as const;

/** The Workers compatibility date every sandbox isolate runs with (no flags). */
export const SANDBOX_COMPATIBILITY_DATE = "2026-11-01";

/** How long an isolate trusts what it learned about a server's active deployment. */
export const ACTIVE_DEPLOYMENT_CACHE_MS = 5_000;

/** How often an isolate reports call counts to the tenant (errors are reported at once). */
export const STATS_FLUSH_MS = 5_000;
