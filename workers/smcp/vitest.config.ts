/**
 * Workerd integration tests: the real Worker, real Durable Objects and real SQLite,
 * run inside workerd by `@cloudflare/vitest-plugin`. Run with `pnpm test:workerd`.
 *
 * Limits are set small here so the tests reach them quickly (event-log pruning, body
 * size); `test/helpers.ts` mirrors the values it needs. Everything else is
 * `wrangler.jsonc` as deployed.
 */
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Nothing here needs the network: no download of the `cf` request object, no metrics.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

// The plugin reads the repository's .dev.vars too, which `pnpm dev` writes: every
// setting it may hold is fixed here, so a developer's local platform cannot change the
// tests (loopback egress on would let the sandbox tests' loopback refusals through).
const testVars = {
  SMCP_ADMIN_TOKEN: "test-admin-token",
  SMCP_ALLOW_PUBLIC_TENANTS: "true",
  SMCP_ALLOW_LOOPBACK_EGRESS: "false",
  SMCP_EVENT_LOG_MAX_EVENTS: "20",
  SMCP_EVENT_LOG_MAX_BYTES: "65536",
  SMCP_MAX_BODY_BYTES: "16384",
  SMCP_SSE_RETRY_MS: "250",
  SMCP_SESSION_END_TIMEOUT_MS: "1000",
  SMCP_ALLOWED_ORIGINS: "https://app.example.com",
  // OAuth abuse limits (test/oauth-helpers.ts mirrors them): a day's window, so nothing
  // refills while a test counts.
  SMCP_OAUTH_RATE_WINDOW_SECONDS: "86400",
  SMCP_OAUTH_REGISTER_PER_ADDRESS: "6",
  SMCP_OAUTH_AUTHORIZE_PER_ADDRESS: "8",
  SMCP_OAUTH_TOKEN_PER_ADDRESS: "8",
  SMCP_OAUTH_REQUESTS_PER_TENANT: "150",
  SMCP_OAUTH_CLIENTS_PER_ADDRESS: "3",
  SMCP_OAUTH_METADATA_FETCHES_PER_ADDRESS: "3",
  SMCP_OAUTH_METADATA_FETCHES_PER_HOST: "5",
  SMCP_MAX_LISTEN_STREAMS_PER_TENANT: "3",
  // Tasks per tenant (test/tasks.test.ts mirrors it).
  SMCP_MAX_TASKS_PER_TENANT: "4",
  SMCP_MAX_TASK_RESULT_BYTES: "4096",
  // A deployed SDK server that never answers gets its error quickly (test/sdk-servers.test.ts).
  SMCP_SDK_CALL_TIMEOUT_SECONDS: "2",
  // Secrets (test/secrets.test.ts mirrors both keys): the current key, and the one before a rotation.
  SMCP_SECRETS_KEY: "4BKo4/kj6Ro/eqYpqLU19YckvfGb4eCdcL0IE+nqbcg=",
  SMCP_SECRETS_KEY_PREVIOUS: "n97IO1DN6mqhAisXM17eoH6h5QR4zJglksPJH3HGBWI",
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.jsonc", import.meta.url)) },
      remoteBindings: false,
      miniflare: { bindings: testVars },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    // The Worker writes one JSON log line per request; show them only for failing tests.
    silent: "passed-only",
    // One workerd for all files (about twice as fast). Safe because every test works in
    // tenants with unique names and never counts objects across the whole namespace.
    isolate: false,
  },
});
