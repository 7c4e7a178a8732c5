import fs from "node:fs";
import { startWrangler, stopWrangler } from "./scripts/lib/wrangler.mjs";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
const lines = [];
const w = await startWrangler({ persistTo: "/tmp/lead/state", onLine: (l) => lines.push(l), vars: { SMCP_ADMIN_TOKEN: "t", SMCP_ALLOW_PUBLIC_TENANTS: "true", SMCP_ALLOW_LOOPBACK_EGRESS: "true", SMCP_SECRETS_KEY: "Tu3JHuXgUbQaADLYBKsjY2DAScZ-6FhD07sRmHdvM5o" } });
const admin = (m, p, body, type = "application/json") => fetch(w.url + "/admin/v1" + p, { method: m, headers: { authorization: "Bearer t", "content-type": type }, body }).then(async (r) => [r.status, await r.text()]);
try {
  console.log(await admin("POST", "/tenants", JSON.stringify({ id: "acme" })));
  const key = JSON.parse((await admin("POST", "/tenants/acme/keys", JSON.stringify({ label: "k" })))[1]).key;
  const t0 = Date.now();
  console.log(await admin("PUT", "/tenants/acme/servers/memory/deployments", fs.readFileSync(process.argv[2] ?? "/tmp/lead/memory.json", "utf8")), Date.now() - t0, "ms");
  const transport = new StreamableHTTPClientTransport(new URL(w.url + "/mcp/acme/memory"), { requestInit: { headers: { Authorization: "Bearer " + key } } });
  const client = new Client({ name: "try", version: "1" });
  await client.connect(transport);
  console.log("tools", (await client.listTools()).tools.map((t) => t.name));
  console.log(JSON.stringify(await client.callTool({ name: "create_entities", arguments: { entities: [{ name: "Ada", entityType: "person", observations: ["wrote programs"] }] } })).slice(0, 300));
  console.log(JSON.stringify(await client.callTool({ name: "read_graph", arguments: {} })).slice(0, 300));
  await client.close();
} catch (e) { console.error("ERR", e); }
finally { await stopWrangler(w.child); console.log(lines.filter((l) => !/GET|POST|PUT|DELETE/.test(l)).slice(-30).join("\n")); }
