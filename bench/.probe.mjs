import { startSmcp } from "./lib/targets.mjs";
import { captureTemplates } from "./lib/mcp-wire.mjs";
import { tenantCeiling } from "./figures/tenant-ceiling.mjs";
const t = await startSmcp();
try {
  const tpl = await captureTemplates(t.tools.add.url, t.headers, "session", t.tools.add);
  const n = Number(process.argv[2] ?? 50);
  const r = await tenantCeiling(t, t.tools.add, tpl, { ceilingSessions: n, ceilingSeconds: 12, connections: 8 });
  console.log(JSON.stringify(r));
  const res = await fetch(t.url + "/admin/v1/health", { headers: { authorization: "Bearer bench-admin-token" } });
  console.log(await res.text());
} finally { await t.stop(); }
