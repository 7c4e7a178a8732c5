/**
 * `npx pnpm@10 dev` as a new user runs it, in a copy of the working tree: the copy has
 * no `.dev.vars` and no `.wrangler/state`, so `pnpm dev` writes its own and provisions
 * the demo tenant, and the repository's own `.dev.vars` and local state are never
 * touched. `node_modules` are links to the installed ones (an install is CI's first
 * step, not this test's). The one change from the README's line is the port: `PORT`
 * (which scripts/dev.mjs honours) is a free port, so the test runs beside a `pnpm dev`
 * on 8787; the lines run with `localhost:8787` written as that port.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
// @ts-expect-error plain ESM helpers shared with the scripts
import { freePort } from "../../../scripts/lib/wrangler.mjs";
// @ts-expect-error plain ESM helpers shared with the scripts
import { UNCAUGHT_LINE } from "../../../scripts/lib/uncaught-log.mjs";

export const REPO = path.resolve(import.meta.dirname, "../../..");

/**
 * The environment of a reader's terminal: no SMCP_* variables, no pnpm-injected `npm_*`
 * settings, and no `node_modules/.bin` on PATH (so neither the repo's pinned Node nor a
 * pnpm that started this test is what the lines find). `npm_config_yes` answers npx's
 * "Ok to proceed?" as the reader would.
 */
export function readerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = /^(HOME|USER|LOGNAME|SHELL|LANG|LC_[A-Z]+|TMPDIR|TZ|CI|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR))$/;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (keep.test(name)) env[name] = value;
  env.PATH = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir && !dir.split(path.sep).includes("node_modules"))
    .join(path.delimiter);
  return { ...env, npm_config_yes: "true", NO_COLOR: "1", TERM: "dumb", ...extra };
}

/** A copy of the tracked and new files of the working tree, with links to its node_modules. */
function copyTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "smcp-readme-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    if (!existsSync(path.join(REPO, file))) continue; // deleted in the working tree
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(REPO, file), path.join(dir, file));
  }
  const withModules = [".", ...["packages", "workers"].flatMap((d) => readdirSync(path.join(REPO, d)).map((p) => `${d}/${p}`))];
  for (const rel of withModules) {
    const modules = path.join(REPO, rel, "node_modules");
    if (existsSync(modules) && existsSync(path.join(dir, rel))) symlinkSync(modules, path.join(dir, rel, "node_modules"));
  }
  return dir;
}

export class DevPlatform {
  readonly dir = copyTree();
  port = 0;
  /** Everything `pnpm dev` printed up to its banner's last line. */
  banner = "";
  #child: ChildProcess | undefined;

  get base(): string {
    return `http://localhost:${this.port}`;
  }

  /** Starts `npx pnpm@10 dev` and resolves once its banner is out. */
  async start(): Promise<void> {
    this.port = await freePort();
    const child = spawn("npx", ["pnpm@10", "dev"], { cwd: this.dir, env: readerEnv({ PORT: String(this.port) }), stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.#child = child;
    // workerd's uncaught-exception reports reach the test's log (scripts/test.mjs checks it).
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        if ((UNCAUGHT_LINE as RegExp).test(line)) process.stderr.write(`npx pnpm@10 dev: ${line}\n`);
      });
    }
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npx pnpm@10 dev printed no banner within 90 s:\n${output}`)), 90_000);
      const onData = (d: Buffer) => {
        output += d;
        if (output.includes("Press Ctrl+C to stop.")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", (d: Buffer) => (output += d));
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`npx pnpm@10 dev exited with ${code}:\n${output}`));
      });
    });
    this.banner = output;
  }

  devVar(name: string): string {
    const m = new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(path.join(this.dir, ".dev.vars"), "utf8"));
    if (!m) throw new Error(`.dev.vars has no ${name}`);
    return m[1]!;
  }

  /** Ctrl+C, as a person stops it; then checks wrangler let go of the port. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid!, "SIGINT");
      const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const up = await fetch(`http://127.0.0.1:${this.port}/healthz`).then(() => true, () => false);
      if (!up) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`wrangler dev still answers on port ${this.port} after pnpm dev exited`);
  }

  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
