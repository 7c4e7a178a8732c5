// Unit tier: pure modules of packages/* and the Worker, in Node (no workerd).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
  },
});
