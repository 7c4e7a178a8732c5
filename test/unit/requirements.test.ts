/** The requirement trace: every row of docs/requirements.md marked `test` has a test, and every test cites known ids. */
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper shared with scripts/requirements.mjs
import { readCitations, readRequirements, traceProblems } from "../../scripts/lib/requirements.mjs";

describe("requirements", () => {
  it("platform:trace — the trace is whole: no requirement without a test, no test citing an unknown id", () => {
    expect(traceProblems(readRequirements(), readCitations())).toEqual([]);
  });

  it("platform:trace — the checker itself finds each kind of gap", () => {
    const requirements = [
      { id: "a:one", spec: "1", text: "one", proof: "test" },
      { id: "a:two", spec: "1", text: "two", proof: "open (issue 9)" },
      { id: "a:three", spec: "1", text: "three", proof: "sometime" },
    ];
    const citations = [
      { file: "x.test.ts", line: 1, title: "a:two — cites an open row", ids: ["a:two"] },
      { file: "x.test.ts", line: 2, title: "no ids here", ids: [] },
      { file: "x.test.ts", line: 3, title: "b:nope — unknown", ids: ["b:nope"] },
      { file: "x.test.ts", line: 4, title: "many", ids: ["a:two", "a:two", "a:two", "a:two", "a:two"] },
    ];
    expect(traceProblems(requirements, citations)).toEqual([
      'a:three: "sometime" is not a kind of proof',
      'x.test.ts:2 "no ids here" cites no requirement (start its title with ids, then " — ")',
      'x.test.ts:3 "b:nope — unknown" cites b:nope, which docs/requirements.md does not list',
      'x.test.ts:4 "many" cites 5 ids; at most 4',
      'a:one has no test ("one")',
    ]);
  });
});
