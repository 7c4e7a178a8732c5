// The tool policy's rules (workers/smcp/src/policy/tool-policy.ts): what a stored policy
// shows and hides, what a called name reaches, and how a policy is normalised when stored.
import { describe, expect, it } from "vitest";
import { checkPolicy, policyView } from "../../workers/smcp/src/policy/tool-policy";

const view = (p: Parameters<typeof checkPolicy>[0]) => {
  const checked = checkPolicy(p);
  if (!checked.ok) throw new Error(checked.reason);
  return policyView({ ...checked.value, updatedAt: 1 });
};

describe("tool policy", () => {
  it("policy:view policy:calls — deny and allow hide; a renamed tool is seen and called only by its new name", () => {
    const v = view({ allow: ["a", "b"], rename: { a: "x" } });
    expect(["a", "b", "c"].map((n) => v.visible(n))).toEqual(["x", "b", null]);
    expect(["x", "a", "b", "c"].map((n) => v.real(n))).toEqual(["a", null, "b", null]);
    const d = view({ deny: ["c"], rename: { a: "x" } });
    expect(["a", "b", "c"].map((n) => d.visible(n))).toEqual(["x", "b", null]);
    expect(["x", "a", "b", "c", "zz"].map((n) => d.real(n))).toEqual(["a", null, "b", null, "zz"]);
  });

  it("policy:view policy:calls — a rename that takes over the name of a tool the policy does not name hides that tool; a swap keeps both", () => {
    const takeover = view({ rename: { a: "b" } });
    expect([takeover.visible("a"), takeover.visible("b")]).toEqual(["b", null]);
    expect([takeover.real("b"), takeover.real("a")]).toEqual(["a", null]);
    const swap = view({ rename: { a: "b", b: "a" } });
    expect([swap.visible("a"), swap.visible("b"), swap.real("a"), swap.real("b")]).toEqual(["b", "a", "b", "a"]);
  });

  it("policy:admin — a stored policy keeps only what it says: no empty deny, rename or descriptions", () => {
    expect(checkPolicy({ deny: [], rename: {}, descriptions: {} })).toEqual({ ok: true, value: {} });
    expect(checkPolicy({ allow: [] })).toEqual({ ok: true, value: { allow: [] } });
    expect(view({ allow: [] }).visible("a")).toBeNull();
  });
});
