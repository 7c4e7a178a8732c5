/**
 * The uncaught-exception lines in a test tier's log (workerd's "uncaught exception; …"
 * reports and V8's "Uncaught (in promise)"), and which of them are explained.
 *
 * A passing run's log holds none, except the few below: each is workerd or the
 * vitest plugin reporting something a test must do, with the reason it cannot be
 * avoided. scripts/test.mjs fails a tier whose log holds any other such line, so a
 * new leak (a rejection nobody handles, a failed fetch, an abort inside a request)
 * shows up as a failing step and not as noise someone learns to ignore.
 */

export const UNCAUGHT_LINE = /uncaught exception|Uncaught \(in promise\)/i;

export const EXPLAINED = [
  {
    pattern: /broken\.outputGateBroken; jsg\.Error: test: the object restarts$/,
    why: "a request in flight in a Durable Object the test restarts (restartObject: a call, a task or a listen stream that must be cut); workerd logs each request the abort breaks",
  },
  {
    pattern: /TypeError: The RPC receiver does not implement "props"\.$/,
    why: "the sandbox escape test reads env.STORE.props from tenant code; @cloudflare/vitest-plugin 1.5.0's entrypoint wrapper refuses it in a promise nobody else awaits (without the plugin, workerd refuses it with no log)",
  },
  {
    pattern: /The Workers runtime canceled this request because it detected that your Worker's code had hung/,
    why: "the sandbox test's handler that never settles: workerd's hang detector ends it, which is what gives the client its -32603",
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

  /** The lines no entry of EXPLAINED covers. */
  unexplained() {
    return this.lines.filter((line) => !EXPLAINED.some((e) => e.pattern.test(line)));
  }
}
