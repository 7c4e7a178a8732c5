// Real-deployment tier: `pnpm test:deployed` against SMCP_REMOTE_URL (with SMCP_REMOTE_ADMIN_TOKEN),
// or, without it, against a local `wrangler dev` with the limit-dependent tests skipped.
// Verbose so every skipped test shows its name, which carries the reason it is skipped.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/deployed/**/*.test.ts"],
    reporters: ["verbose"],
    // A real deployment answers over the internet and loads isolates on demand.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
