/** The uncaught-exception check of `pnpm test` (scripts/lib/uncaught-log.mjs): which log lines fail a tier. */
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper of the test script
import { UncaughtLines } from "../../scripts/lib/uncaught-log.mjs";

/** Lines as workerd 1.20261102 prints them (copied from a workerd tier's log). */
const DNS = [
  "uncaught exception; source = Uncaught (in promise); stack = Error: internal error; reference = eprlgcjibjmp75uhvdc26j8h",
  "uncaught exception; exception = workerd/jsg/value.h:1535: failed: jsg.Error: internal error; reference = eprlgcjibjmp75uhvdc26j8h",
];
const RESTART = "uncaught exception; exception = workerd/api/actor-state.c++:1249: failed: broken.outputGateBroken; jsg.Error: test: the object restarts";
const PROPS = 'uncaught exception; source = Uncaught (in promise); stack = TypeError: The RPC receiver does not implement "props".';
const HANG =
  "uncaught exception; exception = workerd/io/io-context.c++:1972: failed: jsg.Error: The Workers runtime canceled this request because it detected that your Worker's code had hung and would never generate a response.";

describe("uncaught-exception lines of a tier's log", () => {
  it("platform:clean-log — finds them across chunk boundaries and colour codes, and reports each one nothing explains", () => {
    const log = new UncaughtLines();
    const text = ["✓ test/a.test.ts (3 tests)", ...DNS, `\x1b[31m${RESTART}\x1b[39m`, "stack: /bin/workerd@3a4d6a0", PROPS, HANG, "done"].join("\n");
    for (let i = 0; i < text.length; i += 7) log.push(text.slice(i, i + 7));
    log.end();
    expect(log.lines).toEqual([...DNS, RESTART, PROPS, HANG]);
    expect(log.unexplained()).toEqual(DNS);
  });

  it("platform:clean-log — an abort with another reason, another RPC refusal, or more of a known kind than its max is not explained", () => {
    const log = new UncaughtLines();
    log.push(`${RESTART.replace("test: the object restarts", "restart")}\n${PROPS.replace('"props"', '"env"')}\nUncaught (in promise) Error: x\n`);
    log.push(`${PROPS}\n${PROPS}\n`);
    log.end();
    expect(log.unexplained()).toEqual([RESTART.replace("test: the object restarts", "restart"), PROPS.replace('"props"', '"env"'), "Uncaught (in promise) Error: x", PROPS]);
  });
});
