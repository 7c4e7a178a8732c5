import fs from "node:fs";
import { startWrangler, stopWrangler } from "./scripts/lib/wrangler.mjs";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
const lines = [];
const w = await startWrangler({ persistTo: "/tmp/lead/state", onLine: (l) => lines.push(l), vars: { SMCP_ADMIN_TOKEN: "t", SMCP_ALLOW_PUBLIC_TENANTS: "true", SMCP_ALLOW_LOOPBACK_EGRESS: "true", SMCP_SECRETS_KEY: "Tu3JHuXgUbQaADLYBKsjY2DAScZ-6FhD07sRmHdvM5o" } });
const admin = (m, p, body, type = "application/json") => fetch(w.url + "/admin/v1" + p, { method: m, headers: { authorization: "Bearer t", "content-type": type }, body }).then(async (r) => [r.status, await r.text()]);
try {
  await admin("POST", "/tenants", JSON.stringify({ id: "acme" }));
  const key = JSON.parse((await admin("POST", "/tenants/acme/keys", JSON.stringify({ label: "k" })))[1]).key;
  const d = await admin("PUT", "/tenants/acme/servers/every/deployments", fs.readFileSync("/tmp/lead/everything.json", "utf8"));
  console.log(d[0], d[1].slice(0, 1500));
  const transport = new StreamableHTTPClientTransport(new URL(w.url + "/mcp/acme/every"), { requestInit: { headers: { Authorization: "Bearer " + key } } });
  const client = new Client({ name: "try", version: "1" }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
  client.setRequestHandler("sampling/createMessage", async () => ({ model: "m", role: "assistant", content: { type: "text", text: "sampled!" } }));
  client.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { color: "red", name: "x" } }));
  await client.connect(transport);
  const tools = (await client.listTools()).tools;
  console.log("tools", tools.map((t) => t.name));
  for (const [name, args] of [["echo", { message: "hi" }], ["get-sum", { a: 1, b: 2 }], ["trigger-sampling-request", { prompt: "p", maxTokens: 10 }], ["trigger-long-running-operation", { duration: 1, steps: 2 }], ["trigger-elicitation-request", {}]]) {
    try { console.log(name, JSON.stringify(await client.callTool({ name, arguments: args }, { onprogress: (p) => console.log("  progress", p.progress) })).slice(0, 200)); } catch (e) { console.log(name, "ERR", e.message); }
  }
  console.log("resources", (await client.listResources()).resources.length, JSON.stringify(await client.readResource({ uri: (await client.listResources()).resources[0].uri })).slice(0, 200));
  console.log("prompts", (await client.listPrompts()).prompts.map((p) => p.name));
  await client.close();
} catch (e) { console.error("ERR", e); }
finally { await stopWrangler(w.child); console.log(lines.filter((l) => !/GET|POST|PUT|DELETE/.test(l)).slice(-30).join("\n")); }
