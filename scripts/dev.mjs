// `pnpm dev`: the local platform on http://localhost:8787 with a demo tenant ready.
// First run writes .dev.vars (admin token, secrets key, public tenants and loopback egress allowed) and provisions
// the demo tenant; later runs reuse both and re-provision if the local state was
// wiped. Prints what a person needs next: the MCP URL, the key, a client line.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { ROOT, startWrangler, stopWrangler } from "./lib/wrangler.mjs";
import { adminClient, provisionTenant } from "./lib/admin-client.mjs";
import { formatDevLine } from "./lib/dev-console.mjs";
import { ensureSecretsKey } from "./lib/dev-vars.mjs";

const PORT = Number(process.env.PORT ?? 8787);
/** The Inspector release whose --cli works on Node 20 (an unpinned npx picks one whose options clash). */
const INSPECTOR_VERSION = "2.12.0";
const DEV_VARS = path.join(ROOT, ".dev.vars");

function readDevVars() {
  if (!existsSync(DEV_VARS)) return {};
  return Object.fromEntries(
    readFileSync(DEV_VARS, "utf8")
      .split("\n")
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
}

let vars = readDevVars();
if (!vars.SMCP_ADMIN_TOKEN) {
  const token = `smcp_admin_${randomBytes(24).toString("base64url")}`;
  writeFileSync(
    DEV_VARS,
    `# Local settings for pnpm dev (never commit). Created ${new Date().toISOString()}.\nSMCP_ADMIN_TOKEN=${token}\nSMCP_ALLOW_PUBLIC_TENANTS=true\nSMCP_ALLOW_LOOPBACK_EGRESS=true\n`,
  );
  console.log("smcp: wrote .dev.vars with a new admin token");
  vars = readDevVars();
}
// The key that seals deployed servers' secrets (a .dev.vars from before secrets existed gets one too).
if (ensureSecretsKey(DEV_VARS)) {
  console.log("smcp: added a new SMCP_SECRETS_KEY to .dev.vars (it seals deployed servers' secrets)");
  vars = readDevVars();
}
// Deployed servers in local development may call upstreams on this machine (.dev.vars from before it was set gets it too).
if (vars.SMCP_ALLOW_LOOPBACK_EGRESS === undefined) {
  appendFileSync(DEV_VARS, "SMCP_ALLOW_LOOPBACK_EGRESS=true\n");
  vars = readDevVars();
}

console.log(`smcp: starting wrangler dev on http://localhost:${PORT} ...`);
// "log" is the level at which wrangler shows the Worker's console lines; formatDevLine
// turns them into one readable line per request.
const { child } = await startWrangler({
  port: PORT,
  ip: "localhost",
  logLevel: "log",
  // Every request gets its access-log line here (deployments log only refusals and errors), unless .dev.vars says otherwise.
  vars: vars.SMCP_ACCESS_LOG ? {} : { SMCP_ACCESS_LOG: "all" },
  onLine: (line) => {
    const shown = formatDevLine(line);
    if (shown !== null) console.log(shown);
  },
});
const base = `http://localhost:${PORT}`;
const admin = adminClient(base, vars.SMCP_ADMIN_TOKEN);

let demoKey = vars.SMCP_DEMO_KEY;
const demoExists = await admin.getTenant("demo").then(() => true, () => false);
if (!demoExists) {
  // A wiped .wrangler/state loses the tenant, not the key in .dev.vars: restore that key,
  // so every client line already pasted somewhere keeps working.
  const { key } = await provisionTenant(admin, "demo", { label: "pnpm dev", key: demoKey });
  if (key !== demoKey) {
    const kept = readFileSync(DEV_VARS, "utf8").replace(/^SMCP_DEMO_KEY=.*\n?/m, "");
    writeFileSync(DEV_VARS, kept);
    appendFileSync(DEV_VARS, `SMCP_DEMO_KEY=${key}\n`);
    demoKey = key;
  }
  console.log(`smcp: provisioned the demo tenant (servers: notes, everything)${vars.SMCP_DEMO_KEY ? " with the key kept in .dev.vars" : ""}`);
}

const url = `${base}/mcp/demo/notes`;
console.log(`
  SMCP is running.

  MCP URL     ${url}
              ${base}/mcp/demo/everything
  API key     ${demoKey}
  Dashboard   ${base}/admin   (sign in with the admin token)
  Admin token ${vars.SMCP_ADMIN_TOKEN}   (Authorization: Bearer ... on ${base}/admin/v1)

  Connect Claude Code:
    claude mcp add --transport http smcp-demo ${url} --header "Authorization: Bearer ${demoKey}"
  or without the header, approving the client with the key on the OAuth page it opens:
    claude mcp add --transport http smcp-demo ${url}
  Or try it with the MCP Inspector's CLI:
    npx -y @modelcontextprotocol/inspector@${INSPECTOR_VERSION} --cli ${url} --transport http --header "Authorization: Bearer ${demoKey}" --method tools/list

  Press Ctrl+C to stop.
`);

const stop = () => stopWrangler(child).then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
child.on("exit", (code) => process.exit(code ?? 0));
