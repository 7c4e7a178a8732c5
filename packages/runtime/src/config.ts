/**
 * Platform settings, read once per isolate from the Worker's environment variables
 * and validated with zod, so a typo in `wrangler.jsonc` fails loudly at the first
 * request instead of silently running with a default.
 *
 * The schema is the one list of the Worker's variables: `Env` (workers/smcp/src/env.ts)
 * derives its variables from it, and a unit test compares it with the README's
 * configuration table and `wrangler.jsonc`, so a variable cannot exist in one place only.
 */
import { z } from "zod";

const intFrom = (fallback: number, min: number) =>
  z.coerce.number().int().min(min).optional().transform((v) => v ?? fallback);

const boolFrom = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === true || v === "true" || v === "1"));

export const PlatformConfigSchema = z.object({
  /** The admin API's bearer token (a `wrangler secret`); unset or empty turns the admin API off. */
  SMCP_ADMIN_TOKEN: z.string().optional(),
  /**
   * The key deployed servers' secrets are sealed with (a `wrangler secret`): 32 random
   * bytes in base64 or base64url. Unset, the secrets API answers 503; its format is
   * checked where it is used (packages/runtime/src/secret-box.ts), so a bad key turns
   * off secrets, not the platform.
   */
  SMCP_SECRETS_KEY: z.string().optional(),
  /** The key before the last rotation: values sealed under it still open, and are sealed again under SMCP_SECRETS_KEY. */
  SMCP_SECRETS_KEY_PREVIOUS: z.string().optional(),
  /** OTLP/HTTP collector spans are exported to (`{endpoint}/v1/traces`, JSON); unset, no span leaves the platform (workers/smcp/src/tracing/exporter.ts checks it). */
  SMCP_OTLP_ENDPOINT: z.string().optional(),
  /** Headers of the export (an API key of the collector): `name=value` pairs, comma-separated, values percent-encoded; a `wrangler secret`. */
  SMCP_OTLP_HEADERS: z.string().optional(),
  /** Reported by `/healthz` and `/admin/v1/health`. */
  SMCP_VERSION: z.string().optional(),
  SMCP_SESSION_TTL_SECONDS: intFrom(1800, 1),
  SMCP_MAX_BODY_BYTES: intFrom(1024 * 1024, 1024),
  SMCP_EVENT_LOG_MAX_EVENTS: intFrom(1000, 1),
  SMCP_EVENT_LOG_MAX_BYTES: intFrom(4 * 1024 * 1024, 1024),
  SMCP_SSE_RETRY_MS: intFrom(1000, 0),
  SMCP_ALLOW_PUBLIC_TENANTS: boolFrom(false),
  /** Deployed servers may list and fetch localhost and loopback addresses (local development and e2e tests only). */
  SMCP_ALLOW_LOOPBACK_EGRESS: boolFrom(false),
  SMCP_DEFAULT_REQUESTS_PER_SECOND: intFrom(1000, 1),
  SMCP_DEFAULT_MAX_SESSIONS: intFrom(1000, 1),
  SMCP_DEFAULT_TOOL_DATA_BYTES: intFrom(50 * 1024 * 1024, 1024),
  /** Tool-data rows per tenant unless its `limits.toolDataRows` says otherwise. */
  SMCP_DEFAULT_TOOL_DATA_ROWS: intFrom(100_000, 1),
  SMCP_MAX_HEADER_BYTES: intFrom(16 * 1024, 1024),
  SMCP_MAX_STREAMS_PER_SESSION: intFrom(8, 1),
  /** How long a deployed SDK server may take to answer one request (any message about it restarts the wait). */
  SMCP_SDK_CALL_TIMEOUT_SECONDS: intFrom(120, 1),
  /** How long an upstream (gateway) server may take to answer one request (any message about it restarts the wait). */
  SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS: intFrom(120, 1),
  /** How long the stateless lane keeps a principal's idle upstream session (a 2026 client of a 2025 upstream) before it is deleted upstream. */
  SMCP_UPSTREAM_IDLE_SECONDS: intFrom(600, 1),
  /** Report shards per tenant (workers/smcp/src/tenant/report-shard-do.ts): sessions report to one of them, each flushes one batch to the tenant every 5 s; 0 sends reports straight to the tenant. */
  SMCP_REPORT_SHARDS: intFrom(4, 0),
  /** Live instances of deployed SDK servers (sessions running one) per tenant; one more `initialize` gets 429. */
  SMCP_MAX_INSTANCES_PER_TENANT: intFrom(50, 1),
  /** How long a revocation or tenant delete waits for one session to end before reporting it as not ended. */
  SMCP_SESSION_END_TIMEOUT_MS: intFrom(10_000, 100),
  /** Open `subscriptions/listen` streams per tenant in one isolate (stateless lane); one more gets 429. */
  SMCP_MAX_LISTEN_STREAMS_PER_TENANT: intFrom(32, 1),
  /** Tasks (2026-07-28 Tasks extension) a tenant may hold at once, finished ones included until they expire. */
  SMCP_MAX_TASKS_PER_TENANT: intFrom(100, 1),
  /** How long a task and its result are kept after it was created (`ttlMs`); an alarm deletes it then. */
  SMCP_TASK_TTL_SECONDS: intFrom(3600, 1),
  /** Bytes of a task's stored result or input requests (JSON); a larger one fails the task. */
  SMCP_MAX_TASK_RESULT_BYTES: intFrom(1024 * 1024, 1024),
  /** Input-required rounds one task may go through before it fails. */
  SMCP_MAX_TASK_INPUT_ROUNDS: intFrom(10, 1),
  /** How often a reachable upstream server is probed (initialize, tools/list, session deleted). */
  SMCP_UPSTREAM_PROBE_INTERVAL_SECONDS: intFrom(300, 1),
  /** The longest wait between probes of a failing upstream (the wait doubles from the interval up to this). */
  SMCP_UPSTREAM_PROBE_MAX_BACKOFF_SECONDS: intFrom(3600, 1),
  /** How long one probe of an upstream may take, all its requests together. */
  SMCP_UPSTREAM_PROBE_TIMEOUT_SECONDS: intFrom(10, 1),
  /**
   * The Worker's own log line per HTTP request (workers/smcp/src/access-log.ts): `errors`
   * (default) writes one for a response of status 400 or more, `all` for every request
   * (`pnpm dev` sets it, for its console).
   */
  SMCP_ACCESS_LOG: z.enum(["errors", "all"]).optional().transform((v) => v ?? "errors"),
  /** `off` only in `pnpm bench`'s metrics-overhead row, which measures what recording metrics costs; `on` everywhere else. */
  SMCP_METRICS_RECORDING: z.enum(["on", "off"]).optional().transform((v) => v ?? "on"),
  /** Series one Prometheus scrape shows at most (`/admin/v1/metrics`, `/admin/v1/tenants/{t}/metrics`); the rest are cut, and the scrape says so. */
  SMCP_METRICS_MAX_SERIES: intFrom(10_000, 10),
  /** Tenants the platform scrape (`GET /admin/v1/metrics`) reads at most; the rest are cut, and the scrape says so. */
  SMCP_METRICS_MAX_TENANTS: intFrom(200, 1),
  /**
   * Session-lane POST answers. `auto` (default): one JSON body when the answer is ready within
   * `SMCP_SESSION_JSON_BUDGET_MS` and nothing else was sent for it, else a resumable SSE stream
   * (mcp/held-answer.ts); `sse`: always a stream; `json`: always one body, mid-call messages dropped.
   */
  SMCP_SESSION_RESPONSE_MODE: z.enum(["auto", "sse", "json"]).optional().transform((v) => v ?? "auto"),
  /** How long `auto` holds a POST's answer before it starts streaming (ms). */
  SMCP_SESSION_JSON_BUDGET_MS: intFrom(50, 1),
  /** OAuth abuse limits (workers/smcp/src/oauth/abuse-limits.ts): requests per window. */
  SMCP_OAUTH_RATE_WINDOW_SECONDS: intFrom(60, 1),
  SMCP_OAUTH_REGISTER_PER_ADDRESS: intFrom(10, 1),
  SMCP_OAUTH_AUTHORIZE_PER_ADDRESS: intFrom(60, 1),
  SMCP_OAUTH_TOKEN_PER_ADDRESS: intFrom(60, 1),
  SMCP_OAUTH_REQUESTS_PER_TENANT: intFrom(600, 1),
  /** Client ID Metadata Document fetches (cache misses) per client address, and per document host, per window. */
  SMCP_OAUTH_METADATA_FETCHES_PER_ADDRESS: intFrom(20, 1),
  SMCP_OAUTH_METADATA_FETCHES_PER_HOST: intFrom(120, 1),
  /** The longest a grant approved by single sign-on lives, whatever its refreshes: then the person signs in again (sso/callback.ts). */
  SMCP_SSO_GRANT_MAX_SECONDS: intFrom(8 * 60 * 60, 600),
  /** Live client registrations per client address; the next one evicts a never-used one first. */
  SMCP_OAUTH_CLIENTS_PER_ADDRESS: intFrom(50, 1),
  SMCP_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean)),
});

export type PlatformConfig = z.output<typeof PlatformConfigSchema>;

/** The Worker's variables as the runtime hands them over: text, each optional. */
export type PlatformVariables = { [K in keyof z.input<typeof PlatformConfigSchema>]?: string };

const cache = new WeakMap<object, PlatformConfig>();

/** The validated settings of `env`, memoised per env object. */
export function platformConfig(env: object): PlatformConfig {
  let config = cache.get(env);
  if (!config) {
    config = PlatformConfigSchema.parse(env);
    cache.set(env, config);
  }
  return config;
}
