// The requirement table (docs/requirements.md) and the ids the tests cite in their titles.
// Shared by test/unit/requirements.test.ts (which fails on a gap) and scripts/requirements.mjs
// (which prints each id with its tests).
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const REQUIREMENTS_FILE = path.join(ROOT, "docs/requirements.md");
export const TEST_DIRS = ["workers/smcp/test", "test/e2e", "test/unit", "test/deployed"];
export const MAX_IDS_PER_TEST = 4;

const ID = "[a-z]+:[a-z0-9-]+";
const ROW = new RegExp(`^\\| (${ID}) \\| ([^|]*) \\| (.*) \\| ([^|]+) \\|$`);
/** `it(`, `test(` and their `.skip`, `.only`, `.skipIf(…)`, `.runIf(…)` forms (not a method such as `re.test(`), then the title literal. */
const TEST_CALL = /(?<![.\w$])(?:it|test)(?:\.(?:skip|only|todo|concurrent|each\([^()]*\)|skipIf\([^()]*\)|runIf\([^()]*\)))*\(\s*(["'`])((?:\\.|(?!\1).)*)\1/gs;
const CITATION = new RegExp(`^(${ID}(?:\\s+${ID})*)\\s+—\\s`);

/** The rows of docs/requirements.md: `{ id, spec, text, proof }` (proof: test, open (issue N), bench, conformance, ci). */
export function readRequirements(file = REQUIREMENTS_FILE) {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => ROW.exec(line.trim()))
    .filter(Boolean)
    .map(([, id, spec, text, proof]) => ({ id, spec: spec.trim(), text: text.trim(), proof: proof.trim() }));
}

function testFiles(dir) {
  const full = path.join(ROOT, dir);
  let names;
  try {
    names = readdirSync(full);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return name === "fixtures" ? [] : testFiles(rel);
    return /\.test\.(ts|mjs|js)$/.test(name) ? [rel] : [];
  });
}

/** Every test title in the test tiers, with the ids it cites (empty when it cites none). */
export function readCitations(dirs = TEST_DIRS) {
  return dirs.flatMap(testFiles).flatMap((file) => {
    const source = readFileSync(path.join(ROOT, file), "utf8");
    return [...source.matchAll(TEST_CALL)].map((m) => {
      const title = m[2];
      const cited = CITATION.exec(title);
      const line = source.slice(0, m.index).split("\n").length;
      return { file, line, title, ids: cited ? cited[1].split(/\s+/) : [] };
    });
  });
}

/** What is wrong with the trace, as sentences (none when it is whole). */
export function traceProblems(requirements, citations) {
  const problems = [];
  const known = new Map(requirements.map((r) => [r.id, r]));
  const seen = new Set();
  for (const r of requirements) {
    if (seen.has(r.id)) problems.push(`${r.id} is listed twice in docs/requirements.md`);
    seen.add(r.id);
    if (!/^(test|bench|conformance|ci|open \(issue \d+\))$/.test(r.proof)) problems.push(`${r.id}: "${r.proof}" is not a kind of proof`);
  }
  for (const c of citations) {
    const where = `${c.file}:${c.line} "${c.title.slice(0, 60)}"`;
    if (c.ids.length === 0) problems.push(`${where} cites no requirement (start its title with ids, then " — ")`);
    if (c.ids.length > MAX_IDS_PER_TEST) problems.push(`${where} cites ${c.ids.length} ids; at most ${MAX_IDS_PER_TEST}`);
    for (const id of c.ids) if (!known.has(id)) problems.push(`${where} cites ${id}, which docs/requirements.md does not list`);
  }
  const tested = new Set(citations.flatMap((c) => c.ids));
  for (const r of requirements) {
    if (r.proof === "test" && !tested.has(r.id)) problems.push(`${r.id} has no test ("${r.text.slice(0, 60)}")`);
  }
  return problems;
}
