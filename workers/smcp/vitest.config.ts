/**
 * Workerd integration tests: the real Worker, real Durable Objects and real SQLite,
 * run inside workerd by `@cloudflare/vitest-plugin`. Run with `pnpm test:workerd`.
 *
 * Limits are set small here so the tests can reach them quickly (event-log pruning,
 * body size); everything else is `wrangler.jsonc` as deployed.
 */
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Nothing in these tests needs the network: no `cf` object download from Cloudflare.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

export const TEST_VARS = {
  SMCP_ADMIN_TOKEN: "test-admin-token",
  SMCP_ALLOW_PUBLIC_TENANTS: "true",
  SMCP_EVENT_LOG_MAX_EVENTS: "20",
  SMCP_EVENT_LOG_MAX_BYTES: "65536",
  SMCP_MAX_BODY_BYTES: "16384",
  SMCP_SSE_RETRY_MS: "250",
  SMCP_ALLOWED_ORIGINS: "https://app.example.com",
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.jsonc", import.meta.url)) },
      remoteBindings: false,
      miniflare: { bindings: TEST_VARS },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
