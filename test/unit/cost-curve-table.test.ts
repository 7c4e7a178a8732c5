// The README's cost-curve table is what bench/lib/cost-table.mjs renders from the
// committed bench/results/cost-curve.json: a hand edit, or results recorded without the
// README, shows here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CURVE_RESULTS, README, readmeCostTable, renderCostTable, withCostTable } from "../../bench/lib/cost-table.mjs";

describe("cost curve table", () => {
  it("bench:cost-curve — the README's table is the rendering of bench/results/cost-curve.json", () => {
    const curve = JSON.parse(readFileSync(CURVE_RESULTS, "utf8"));
    expect(curve.mode).toBe("full");
    expect(curve.figures.connections.points.map((p: { connections: number }) => p.connections)).toEqual([1, 8, 64]);
    expect(readmeCostTable(readFileSync(README, "utf8"))).toBe(renderCostTable(curve));
  });

  it("bench:cost-curve — rendering replaces only what is between the markers, and a README without them is refused", () => {
    const readme = readFileSync(README, "utf8");
    const replaced = withCostTable(readme, "| new |");
    expect(readmeCostTable(replaced)).toBe("| new |");
    expect(replaced).toBe(readme.replace(readmeCostTable(readme)!, "| new |"));
    expect(() => withCostTable("# no markers", "x")).toThrow(/no cost-curve markers/);
  });
});
