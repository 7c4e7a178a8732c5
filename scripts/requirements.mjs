// Prints every requirement of docs/requirements.md with the tests that cite it.
import { readCitations, readRequirements } from "./lib/requirements.mjs";

const citations = readCitations();
for (const r of readRequirements()) {
  const tests = citations.filter((c) => c.ids.includes(r.id));
  console.log(`${r.id}  (${r.proof})`);
  for (const t of tests) console.log(`    ${t.file}:${t.line}  ${t.title.split(" — ").slice(1).join(" — ").slice(0, 100)}`);
}
