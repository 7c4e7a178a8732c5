import { SELF, env } from "cloudflare:test";
import { expect, it } from "vitest";
it("works", async () => {
  const res = await SELF.fetch("https://smcp.test/healthz");
  expect(await res.json()).toEqual({ ok: true, version: "0.1.0" });
  expect(env.SMCP_ADMIN_TOKEN).toBe("test-admin-token");
});
