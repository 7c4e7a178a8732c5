/**
 * One bash, fed the docs' lines one at a time, as a reader pastes them into one terminal:
 * variables a line sets are there for the next. Each line's stdout, stderr and exit
 * status are collected apart (the status comes back on fd 3, so nothing a command prints
 * can be mistaken for it). Every curl call also reports its HTTP status on stderr through
 * a curlrc the environment points at (`CURL_HOME`), so a line is checked as written,
 * without a `-w` added to it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

const STATUS_LINE = /^curl-status (\d{3})$/gm;

export interface LineResult {
  code: number | null;
  stdout: string;
  /** stderr without the curl status lines. */
  stderr: string;
  /** The HTTP status of each curl call the line made, in order. */
  statuses: number[];
}

/** Writes the curlrc that makes every curl call print its status on stderr; returns its CURL_HOME. */
export function curlHome(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "smcp-curlrc-"));
  writeFileSync(path.join(dir, ".curlrc"), 'write-out = "%{stderr}\\ncurl-status %{http_code}\\n"\n');
  return dir;
}

export class Shell {
  readonly #child: ChildProcess;
  readonly #dir = mkdtempSync(path.join(tmpdir(), "smcp-doc-shell-"));
  readonly #waiting = new Map<string, (value: string) => void>();
  readonly #jobs = new Set<number>();
  #n = 0;
  #exited = false;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.#child = spawn("bash", ["--noprofile", "--norc"], { cwd, env, stdio: ["pipe", "ignore", "ignore", "pipe"], detached: true });
    this.#child.on("exit", () => {
      this.#exited = true;
      for (const resolve of this.#waiting.values()) resolve("exited");
    });
    createInterface({ input: this.#child.stdio[3] as NodeJS.ReadableStream }).on("line", (line) => {
      const [n, ...rest] = line.split(" ");
      this.#waiting.get(n!)?.(rest.join(" "));
    });
  }

  #files(n: number) {
    return { out: path.join(this.#dir, `${n}.out`), err: path.join(this.#dir, `${n}.err`) };
  }

  #reply(n: number, timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(String(n));
        reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#waiting.set(String(n), (value) => {
        clearTimeout(timer);
        this.#waiting.delete(String(n));
        if (value === "exited") reject(new Error(`bash exited while running ${what}`));
        else resolve(value);
      });
      if (this.#exited) reject(new Error(`bash exited before ${what}`));
    });
  }

  /** What line `n` has printed so far. */
  output(n: number): LineResult & { code: null } {
    const { out, err } = this.#files(n);
    const read = (file: string) => {
      try {
        return readFileSync(file, "utf8");
      } catch {
        return "";
      }
    };
    const rawErr = read(err);
    const statuses = [...rawErr.matchAll(STATUS_LINE)].map((m) => Number(m[1]));
    return { code: null, stdout: read(out), stderr: rawErr.replace(STATUS_LINE, "").replace(/\n{2,}/g, "\n"), statuses };
  }

  /** Runs one line to its end. */
  async run(text: string, timeoutMs = 180_000): Promise<LineResult> {
    const n = ++this.#n;
    const { out, err } = this.#files(n);
    // The line on lines of its own, so its trailing comment ends at the newline.
    this.#child.stdin!.write(`{\n${text}\n} 3>&- >${q(out)} 2>${q(err)} </dev/null; echo "${n} $?" >&3\n`);
    const code = Number(await this.#reply(n, timeoutMs, text));
    return { ...this.output(n), code };
  }

  /**
   * Starts a line that runs until interrupted (`--follow`) as a job of its own process
   * group, as a terminal would; `interrupt()` is the reader's Ctrl+C.
   */
  async start(text: string): Promise<{ n: number; interrupt: (timeoutMs?: number) => Promise<LineResult> }> {
    const n = ++this.#n;
    const { out, err } = this.#files(n);
    this.#child.stdin!.write(`set -m\n{\n${text}\n} 3>&- >${q(out)} 2>${q(err)} </dev/null &\necho "${n} $!" >&3\nset +m\n`);
    const pid = Number(await this.#reply(n, 10_000, text));
    this.#jobs.add(pid);
    return {
      n,
      interrupt: async (timeoutMs = 15_000) => {
        process.kill(-pid, "SIGINT");
        const m = ++this.#n;
        this.#child.stdin!.write(`wait ${pid}; echo "${m} $?" >&3\n`);
        const code = Number(await this.#reply(m, timeoutMs, `${text} after Ctrl+C`));
        this.#jobs.delete(pid);
        return { ...this.output(n), code };
      },
    };
  }

  close(): void {
    for (const pid of this.#jobs) killGroup(pid);
    if (!this.#exited) killGroup(this.#child.pid!);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {}
}

function q(file: string): string {
  return `'${file.replace(/'/g, "'\\''")}'`;
}
