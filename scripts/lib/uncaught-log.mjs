/**
 * The uncaught-exception lines in a test tier's log (workerd's "uncaught exception; …"
 * reports and V8's "Uncaught (in promise)"), and which of them are explained.
 *
 * A passing run's log holds none, except the few below, each at most `max` times in a
 * tier: workerd or the vitest plugin reporting something a test must do, with the
 * reason it cannot be avoided. scripts/test.mjs fails a tier whose log holds any other such line, so a
 * new leak (a rejection nobody handles, a failed fetch, an abort inside a request)
 * shows up as a failing step and not as noise someone learns to ignore.
 */

export const UNCAUGHT_LINE = /uncaught exception|Uncaught \(in promise\)/i;

export const EXPLAINED = [
  {
    pattern: /broken\.outputGateBroken; jsg\.Error: test: the object restarts$/,
    max: 3,
    why: "workerd tier: a request in flight in a Durable Object the test restarts (restartObject), which the test is about: the hung call of lanes:nothing-hanging, the running task of tasks:restart, the bus stream of stateless:listen-cross-isolate. workerd logs each request an abort breaks",
  },
  {
    pattern: /TypeError: The RPC receiver does not implement "props"\.$/,
    max: 1,
    why: "workerd tier: the sandbox escape test reads env.STORE.props from tenant code; @cloudflare/vitest-plugin 1.5.0's entrypoint wrapper refuses it in a promise nobody else awaits (workerd alone refuses it without a log)",
  },
  {
    pattern: /The Workers runtime canceled this request because it detected that your Worker's code had hung/,
    max: 1,
    why: "workerd tier: the sandbox test's handler that never settles; workerd's hang detector ends it, which is what gives the client its -32603",
  },
  {
    pattern: /^wrangler dev :\d+: uncaught exception; source = Uncaught \(in (promise|response)\); stack = Error: Network connection lost\.$/,
    max: Infinity,
    why: "e2e tier: a connection a test cuts on purpose (gateway tests kill or cut their upstream mid-call or mid-stream; sandbox.test.ts fetches an allow-listed host that is down, localhost:9). workerd logs each failed fetch and each relayed body it broke off, even when the platform handles it; how many depends on timing, so no bound",
  },
];

/** Splits a stream of chunks into lines and keeps the uncaught-exception ones. */
export class UncaughtLines {
  #partial = "";
  lines = [];

  push(chunk) {
    const text = this.#partial + chunk;
    const parts = text.split("\n");
    this.#partial = parts.pop();
    for (const line of parts) this.#take(line);
  }

  end() {
    if (this.#partial) this.#take(this.#partial);
    this.#partial = "";
  }

  #take(line) {
    // eslint-disable-next-line no-control-regex
    const plain = line.replace(/\x1b\[[0-9;]*m/g, "").trimEnd();
    if (UNCAUGHT_LINE.test(plain)) this.lines.push(plain);
  }

  /** The lines no entry of EXPLAINED covers, and those past an entry's `max` (more of a known kind is a new leak). */
  unexplained() {
    const seen = new Map();
    return this.lines.filter((line) => {
      const entry = EXPLAINED.find((e) => e.pattern.test(line));
      if (!entry) return true;
      seen.set(entry, (seen.get(entry) ?? 0) + 1);
      return seen.get(entry) > entry.max;
    });
  }
}
