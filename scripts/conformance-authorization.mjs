// `node scripts/conformance-authorization.mjs --url <origin> --resource <mcp url>`: runs the
// MCP conformance suite's authorization-server scenarios (`conformance authorization`:
// authorization-server-metadata-endpoint, then authorization-code-grant) against SMCP's
// authorization server, once per client identity:
//   - `cimd`: a Client ID Metadata Document URL as client_id, served over HTTPS on
//     loopback by this script (needs --tls-cert/--tls-key, and a platform that trusts
//     their CA and runs with SMCP_ALLOW_LOOPBACK_EGRESS);
//   - `registered`: a public client registered at /register (the fallback for clients
//     without a document).
// The code grant prints an authorization URL and waits for its callback on
// 127.0.0.1:<port>; the person approving is played here: the approval page is read,
// its form posted with the tenant key (SMCP_CONFORMANCE_KEY), and the redirect followed
// to the CLI's callback. `--resource` is the MCP URL the grant is for: SMCP's approval
// names a tenant and server only through it (RFC 8707), as MCP clients send it.
//
// Scored strictly: every check of both scenarios must be SUCCESS (or INFO); a FAILURE,
// a WARNING or a SKIPPED check fails the run, whatever the CLI's exit code says.
// Prints one line per identity (scenarios passed and failed, then the checks) and the
// CLI's own Total line, which counts checks.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { decodeEntities, readApprovalPage, submitApproval } from "./lib/approval-page.mjs";
import { AUTHORIZATION_SCENARIOS, readAuthorizationChecks, scoreAuthorization } from "./lib/authorization-checks.mjs";
import { freePort } from "./lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "node_modules", "@modelcontextprotocol", "conformance");
/** The CLI waits 5 minutes for the callback; a scripted approval takes well under a second. */
const RUN_TIMEOUT_MS = 60_000;

class UsageError extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      resource: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      out: { type: "string" },
      verbose: { type: "boolean", default: false },
    },
  });
  if (!values.url || !values.resource) throw new UsageError("usage: --url <SMCP origin> --resource <MCP URL> [--tls-cert f --tls-key f] [--out dir] [--verbose]; the tenant key in SMCP_CONFORMANCE_KEY");
  const key = process.env.SMCP_CONFORMANCE_KEY;
  if (!key) throw new UsageError("SMCP_CONFORMANCE_KEY must hold an API key of the resource's tenant (the approval page asks for it)");
  const issuer = new URL(values.url).origin;
  if (values["tls-cert"] === undefined !== (values["tls-key"] === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  return { issuer, resource: values.resource, key, tls: values["tls-cert"] ? { cert: readFileSync(values["tls-cert"]), key: readFileSync(values["tls-key"]) } : null, out: values.out, verbose: values.verbose };
}

/** An HTTPS server on loopback that publishes one client's metadata document; resolves to its URL. */
async function documentServer(tls, callback) {
  let documentUrl = "";
  const server = createServer(tls, (req, res) => {
    if (new URL(req.url ?? "/", "https://localhost").pathname !== "/conformance/client.json") return res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "max-age=60" }).end(
      JSON.stringify({
        client_id: documentUrl,
        client_name: "MCP conformance (authorization)",
        redirect_uris: [callback],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      }),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  documentUrl = `https://localhost:${server.address().port}/conformance/client.json`;
  return { server, documentUrl };
}

async function registerClient(issuer, callback) {
  const res = await fetch(`${issuer}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_name: "MCP conformance (authorization)", redirect_uris: [callback], token_endpoint_auth_method: "none", grant_types: ["authorization_code"] }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`POST /register answered ${res.status}: ${JSON.stringify(body)}`);
  return body.client_id;
}

/**
 * The person at the approval page: reads it, posts its form with the key, and follows the
 * redirect to the CLI's callback server. Throws with the page's text when SMCP refuses.
 */
async function approve(authorizationUrl, key) {
  const { page, html } = await readApprovalPage(authorizationUrl);
  if (page.status !== 200) throw new Error(`GET /authorize answered ${page.status}: ${pageText(html)}`);
  const res = await submitApproval(authorizationUrl, html, key);
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) throw new Error(`POST /authorize answered ${res.status}: ${pageText(await res.text())}`);
  const callback = await fetch(location);
  await callback.text();
}

/** What a refusing page says: its alert when it has one (both SMCP pages put the reason there), else its text. */
const pageText = (html) => {
  const alert = /<p class="error" role="alert">([\s\S]*?)<\/p>/.exec(html)?.[1];
  return decodeEntities((alert ?? html).replace(/<style[\s\S]*?<\/style>/g, "").replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim().slice(0, 300);
};

/** One `conformance authorization` run; resolves to its exit code, log and the approval's error, if any. */
function runCli(args, key, verbose) {
  const pkg = JSON.parse(readFileSync(path.join(CLI, "package.json"), "utf8"));
  const entry = path.join(CLI, typeof pkg.bin === "string" ? pkg.bin : pkg.bin.conformance);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, "authorization", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let log = "";
    let approval = null;
    const timer = setTimeout(() => {
      approval ??= Promise.resolve(`no result within ${RUN_TIMEOUT_MS / 1000} s`);
      child.kill("SIGTERM");
    }, RUN_TIMEOUT_MS);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        log += `${line}\n`;
        if (verbose) console.log(`    | ${line}`);
        // The one line that is the authorization request: the endpoint with its query.
        if (approval === null && /^https?:\/\/\S+\/authorize\?\S*client_id=/.test(line.trim())) {
          approval = approve(line.trim(), key).then(
            () => null,
            (err) => {
              // The CLI would wait 5 minutes for a callback that will not come.
              child.kill("SIGTERM");
              return err.message;
            },
          );
        }
      });
    }
    child.on("close", async (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, log, approvalError: approval ? await approval : null });
    });
  });
}

async function runIdentity(name, clientId, port, opts, workDir) {
  const dir = path.join(workDir, name);
  const args = ["--url", opts.issuer, "--client-id", clientId, "--resource", opts.resource, "--port", String(port), "-o", path.join(dir, "results")];
  const { code, log, approvalError } = await runCli(args, opts.key, opts.verbose);
  const { passed, checks, problems } = scoreAuthorization(readAuthorizationChecks(path.join(dir, "results")));
  if (approvalError) problems.push(`scripted approval: ${approvalError}`);
  if (code !== 0 && problems.length === 0) problems.push(`the CLI exited ${code}`);
  const total = log.match(/^Total:.*$/m)?.[0];
  return { name, clientId, ok: problems.length === 0 && passed === AUTHORIZATION_SCENARIOS.length, passed, checks, problems, total, log };
}

async function main() {
  const opts = options();
  if (!existsSync(path.join(CLI, "package.json"))) throw new UsageError("@modelcontextprotocol/conformance is not installed; run `npx pnpm@10 install`");
  const version = JSON.parse(readFileSync(path.join(CLI, "package.json"), "utf8")).version;
  const workDir = opts.out ? path.resolve(opts.out) : mkdtempSync(path.join(tmpdir(), "smcp-conformance-auth-"));
  console.log(`MCP conformance ${version} authorization against ${opts.issuer} (resource ${opts.resource})`);

  const reports = [];
  let documents = null;
  try {
    const identities = [];
    if (opts.tls) {
      const port = await freePort();
      documents = await documentServer(opts.tls, `http://127.0.0.1:${port}/callback`);
      identities.push(["cimd", documents.documentUrl, port]);
    }
    const port = await freePort();
    identities.push(["registered", await registerClient(opts.issuer, `http://127.0.0.1:${port}/callback`), port]);
    for (const [name, clientId, callbackPort] of identities) {
      const r = await runIdentity(name, clientId, callbackPort, opts, workDir);
      reports.push(r);
      // "authorization/cimd: ok  2 passed, 0 failed": scenarios, as the server runner counts.
      console.log(
        `\nauthorization/${name}: ${r.ok ? "ok" : "FAIL"}  ${r.passed} passed, ${AUTHORIZATION_SCENARIOS.length - r.passed} failed` +
          `  (client_id ${r.clientId}; ${r.checks} checks, ${r.problems.length} not passing)`,
      );
      if (r.total) console.log(`  the CLI's own ${r.total}`);
      for (const p of r.problems) console.log(`  - ${p}`);
      if (!r.ok && !opts.verbose) console.log(r.log.split("\n").slice(-40).map((l) => `    | ${l}`).join("\n"));
    }
  } finally {
    documents?.server.close();
  }
  const ok = reports.length > 0 && reports.every((r) => r.ok);
  if (!opts.out) rmSync(workDir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`conformance authorization: ${error instanceof UsageError ? error.message : error.stack}`);
    process.exit(2);
  },
);
