// `smcp policy ...` (packages/cli/src/commands/policy.mjs): the command line of `policy set`
// parsed by the real command table into the `PUT .../policy` body, its usage errors, and
// how a stored policy is printed.
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { parseCommandLine } from "../../packages/cli/src/args.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { commands } from "../../packages/cli/src/commands/index.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { describePolicy, policyBody } from "../../packages/cli/src/commands/policy.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { UsageError } from "../../packages/cli/src/errors.mjs";

const bodyOf = (argv: string[]) => {
  const parsed = parseCommandLine(["policy", "set", "acme", "remote", ...argv], commands);
  expect(parsed.kind).toBe("run");
  return policyBody(parsed.opts);
};

describe("smcp policy", () => {
  it("admin:cli policy:admin — `policy set` turns repeated flags into the PUT body: lists in order, NAME=VALUE pairs split at the first =", () => {
    expect(bodyOf(["--allow", "echo", "--allow", "add", "--rename", "echo=say", "--describe", "add=Adds a and b = c"])).toEqual({
      allow: ["echo", "add"],
      rename: { echo: "say" },
      descriptions: { add: "Adds a and b = c" },
    });
    expect(bodyOf(["--deny", "flood"])).toEqual({ deny: ["flood"] });
  });

  it("admin:cli — `policy set` without a rule, a pair without =, and a name given twice are usage errors", () => {
    for (const argv of [[], ["--rename", "echo"], ["--rename", "=say"], ["--describe", "add="], ["--rename", "a=b", "--rename", "a=c"]]) {
      expect(() => bodyOf(argv), argv.join(" ")).toThrow(UsageError);
    }
  });

  it("admin:cli — `policy show` prints what is visible, renamed and re-described", () => {
    expect(describePolicy({ server: "remote", allow: ["echo", "add"], deny: [], rename: { echo: "say" }, descriptions: { add: "x" } })).toBe(
      ["tool policy of remote:", "  visible: only echo, add", "  renamed: echo -> say", "  descriptions set for: add"].join("\n"),
    );
    expect(describePolicy({ server: "notes", allow: null, deny: ["delete_note"], rename: {}, descriptions: {} })).toBe("tool policy of notes:\n  visible: every tool, except delete_note");
  });
});
