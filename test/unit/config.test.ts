// The platform's variables (packages/runtime/src/config.ts): defaults, refusals, and the
// schema as the one list of variables: the README's configuration table and
// wrangler.jsonc name exactly the variables it validates (`Env` derives from it at compile time).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PlatformConfigSchema, platformConfig } from "../../packages/runtime/src/config";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schemaVariables = Object.keys(PlatformConfigSchema.shape).sort();

describe("platformConfig", () => {
  it("platform:config — fills every default from an empty environment", () => {
    expect(platformConfig({})).toEqual({
      SMCP_ADMIN_TOKEN: undefined,
      SMCP_VERSION: undefined,
      SMCP_SESSION_TTL_SECONDS: 1800,
      SMCP_MAX_BODY_BYTES: 1048576,
      SMCP_EVENT_LOG_MAX_EVENTS: 1000,
      SMCP_EVENT_LOG_MAX_BYTES: 4194304,
      SMCP_SSE_RETRY_MS: 1000,
      SMCP_ALLOW_PUBLIC_TENANTS: false,
      SMCP_DEFAULT_REQUESTS_PER_SECOND: 1000,
      SMCP_DEFAULT_MAX_SESSIONS: 1000,
      SMCP_DEFAULT_TOOL_DATA_BYTES: 52428800,
      SMCP_MAX_HEADER_BYTES: 16384,
      SMCP_MAX_STREAMS_PER_SESSION: 8,
      SMCP_SDK_CALL_TIMEOUT_SECONDS: 120,
      SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS: 120,
      SMCP_UPSTREAM_IDLE_SECONDS: 600,
      SMCP_MAX_INSTANCES_PER_TENANT: 50,
      SMCP_SESSION_RESPONSE_MODE: "auto",
      SMCP_SESSION_JSON_BUDGET_MS: 50,
      SMCP_ALLOWED_ORIGINS: [],
      SMCP_ALLOW_LOOPBACK_EGRESS: false,
      SMCP_DEFAULT_TOOL_DATA_ROWS: 100000,
      SMCP_MAX_LISTEN_STREAMS_PER_TENANT: 32,
      SMCP_MAX_TASKS_PER_TENANT: 100,
      SMCP_TASK_TTL_SECONDS: 3600,
      SMCP_MAX_TASK_RESULT_BYTES: 1048576,
      SMCP_MAX_TASK_INPUT_ROUNDS: 10,
      SMCP_SESSION_END_TIMEOUT_MS: 10000,
      SMCP_UPSTREAM_PROBE_INTERVAL_SECONDS: 300,
      SMCP_UPSTREAM_PROBE_MAX_BACKOFF_SECONDS: 3600,
      SMCP_UPSTREAM_PROBE_TIMEOUT_SECONDS: 10,
      SMCP_ACCESS_LOG: "errors",
      SMCP_METRICS_RECORDING: "on",
      SMCP_METRICS_MAX_SERIES: 10000,
      SMCP_METRICS_MAX_TENANTS: 200,
      SMCP_OAUTH_RATE_WINDOW_SECONDS: 60,
      SMCP_OAUTH_REGISTER_PER_ADDRESS: 10,
      SMCP_OAUTH_AUTHORIZE_PER_ADDRESS: 60,
      SMCP_OAUTH_TOKEN_PER_ADDRESS: 60,
      SMCP_REPORT_SHARDS: 4,
      SMCP_OAUTH_REQUESTS_PER_TENANT: 600,
      SMCP_OAUTH_CLIENTS_PER_ADDRESS: 50,
      SMCP_SSO_GRANT_MAX_SECONDS: 28800,
      SMCP_OAUTH_METADATA_FETCHES_PER_ADDRESS: 20,
      SMCP_OAUTH_METADATA_FETCHES_PER_HOST: 120,
    });
  });

  it("platform:config — parses text values as the runtime hands them over", () => {
    const config = platformConfig({
      SMCP_SESSION_TTL_SECONDS: "60",
      SMCP_SSE_RETRY_MS: "0",
      SMCP_ALLOW_PUBLIC_TENANTS: "1",
      SMCP_SESSION_RESPONSE_MODE: "json",
      SMCP_ALLOWED_ORIGINS: " https://a.example , ,https://b.example",
    });
    expect(config).toMatchObject({
      SMCP_SESSION_TTL_SECONDS: 60,
      SMCP_SSE_RETRY_MS: 0,
      SMCP_ALLOW_PUBLIC_TENANTS: true,
      SMCP_SESSION_RESPONSE_MODE: "json",
      SMCP_ALLOWED_ORIGINS: ["https://a.example", "https://b.example"],
    });
    expect(platformConfig({ SMCP_ALLOW_PUBLIC_TENANTS: "false" }).SMCP_ALLOW_PUBLIC_TENANTS).toBe(false);
    expect(platformConfig({ SMCP_ALLOW_PUBLIC_TENANTS: "0" }).SMCP_ALLOW_PUBLIC_TENANTS).toBe(false);
  });

  it("platform:config — refuses typos and values under their minimum instead of running on a default", () => {
    for (const env of [
      { SMCP_SESSION_TTL_SECONDS: "0" },
      { SMCP_SESSION_TTL_SECONDS: "1.5" },
      { SMCP_SESSION_TTL_SECONDS: "thirty" },
      { SMCP_MAX_BODY_BYTES: "1023" },
      { SMCP_SSE_RETRY_MS: "-1" },
      { SMCP_ALLOW_PUBLIC_TENANTS: "yes" },
      { SMCP_SESSION_RESPONSE_MODE: "SSE" },
    ]) {
      expect(() => platformConfig(env), JSON.stringify(env)).toThrow();
    }
  });

  it("platform:config — is memoised per env object", () => {
    const env = { SMCP_SESSION_TTL_SECONDS: "5" };
    expect(platformConfig(env)).toBe(platformConfig(env));
    expect(platformConfig({ ...env })).not.toBe(platformConfig(env));
  });
});

describe("the list of variables", () => {
  it("platform:config — the README's configuration table lists exactly the schema's variables", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
    const documented = [...section.matchAll(/^\| `(SMCP_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!).sort();
    expect(documented).toEqual(schemaVariables);
  });

  it("platform:config — wrangler.jsonc sets only variables the schema validates, with valid values", () => {
    const jsonc = readFileSync(path.join(ROOT, "wrangler.jsonc"), "utf8").replace(/^\s*\/\/.*$/gm, "");
    const vars: Record<string, string> = JSON.parse(jsonc).vars;
    expect(Object.keys(vars).filter((name) => !schemaVariables.includes(name))).toEqual([]);
    expect(() => PlatformConfigSchema.parse(vars)).not.toThrow();
  });
});
