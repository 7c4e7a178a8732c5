// Starting and stopping `wrangler dev` for the dev server, tests and benchmarks.
// Every caller gets the same behaviour: metrics off, its own port and state
// directory, output kept for the error message if it fails to come up.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UNCAUGHT_LINE } from "./uncaught-log.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A free TCP port on loopback. */
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Starts `wrangler dev` on `port`, or on a free port when none is given: another
 * process may take a port between our probe and wrangler's bind, so a clash is
 * retried on a new port. Resolves to `{ child, url, port, output }`.
 */
export async function startWrangler(options) {
  if (options.port !== undefined) return startWranglerOn(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWranglerOn({ ...options, port: await freePort() });
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err?.message))) throw err;
    }
  }
}

/**
 * Starts `wrangler dev`. `config` is a path (from the repository root, or absolute) or
 * several: the first Worker is served on the port, the others only through its bindings.
 * `vars` become `--var` flags, which reach the first Worker only (they override wrangler.jsonc
 * and .dev.vars); `env` is added to wrangler's process environment (for example
 * `NODE_EXTRA_CA_CERTS`, which workerd's outbound TLS trusts too); `persistTo` keeps Durable Object state across restarts; `onLine`
 * receives each line wrangler prints (stdout and stderr) instead of the terminal; without it,
 * the output is kept (for an error) but workerd's uncaught-exception lines are passed on
 * to stderr. The log level is `logLevel`, else SMCP_WRANGLER_LOG_LEVEL (debug is the only
 * level at which wrangler shows those lines), else warn. Only `pnpm dev` (`inherit`) keeps
 * wrangler's debug log file: every other wrangler (tests, bench) would append each line it
 * handles to ~/.config/.wrangler/logs with an open, append and close per line (2.2 GB there
 * after a day of test and bench runs on one machine, and CPU the bench counts against the server).
 * Resolves once /healthz answers.
 */
async function startWranglerOn({ port, persistTo, vars = {}, env = {}, inherit = false, onLine, config = "wrangler.jsonc", logLevel, ip = "127.0.0.1" }) {
  const args = [
    path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    ...[config].flat().flatMap((c) => ["--config", path.resolve(ROOT, c)]),
    "--port", String(port),
    "--ip", ip,
    "--show-interactive-dev-session=false",
    "--log-level", logLevel ?? process.env.SMCP_WRANGLER_LOG_LEVEL ?? (inherit ? "info" : "warn"),
  ];
  if (persistTo) args.push("--persist-to", persistTo);
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      WRANGLER_SEND_METRICS: "false",
      ...(inherit ? {} : { WRANGLER_WRITE_LOGS: "false" }),
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      CI: process.env.CI ?? "1",
      NO_COLOR: "1",
    },
    stdio: inherit ? ["inherit", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    detached: !inherit,
  });
  // The tail is kept for the error message if wrangler fails to come up; bounded, since
  // `pnpm dev` runs for hours.
  let output = "";
  const keep = (d) => (output = (output + d).slice(-64 * 1024));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  if (onLine) {
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
  }
  // workerd's uncaught-exception reports are passed on even when the rest is kept quiet:
  // scripts/test.mjs fails a tier whose log holds one that nothing explains.
  if (!inherit && !onLine) {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        if (UNCAUGHT_LINE.test(line)) process.stderr.write(`wrangler dev :${port}: ${line}\n`);
      });
    }
  }
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stopWrangler(child);
      throw new Error(`wrangler dev did not answer /healthz on ${url} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, port, output: () => output };
}

/** Stops a wrangler started by `startWrangler`, with its workerd children. */
export async function stopWrangler(child) {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, "exit");
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    child.kill("SIGTERM");
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, 5_000);
  await exited;
  clearTimeout(timer);
}
