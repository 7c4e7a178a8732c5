// How the authorization conformance runner reads and scores the CLI's results. The CLI
// fails a run only on FAILURE and exits 0 when a scenario is SKIPPED (the code grant
// without --client-id) or WARNS (metadata without client_id_metadata_document_supported);
// here each of those fails, since a skipped check proves nothing and a warning is a
// SHOULD of the specification that SMCP means to meet.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

export const AUTHORIZATION_SCENARIOS = ["authorization-server-metadata-endpoint", "authorization-code-grant"];
/** INFO checks report, they do not judge. */
const OK_STATUSES = new Set(["SUCCESS", "INFO"]);
const STAMP = /-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** checks.json of each scenario the CLI wrote under `dir` (`authorization-server-<scenario>-<timestamp>/`), by scenario. */
export function readAuthorizationChecks(dir) {
  const results = new Map();
  if (!existsSync(dir)) return results;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name, "checks.json");
    if (!name.startsWith("authorization-server-") || !STAMP.test(name) || !existsSync(file)) continue;
    results.set(name.slice("authorization-server-".length).replace(STAMP, ""), JSON.parse(readFileSync(file, "utf8")));
  }
  return results;
}

/**
 * Scores one run: a scenario passes when it wrote checks and every one is SUCCESS or INFO.
 * `problems` names each check that is not, and each scenario that wrote nothing.
 */
export function scoreAuthorization(results, scenarios = AUTHORIZATION_SCENARIOS) {
  const problems = [];
  let checks = 0;
  let passed = 0;
  for (const scenario of scenarios) {
    const list = results.get(scenario);
    if (!list || list.length === 0) {
      problems.push(`${scenario}: no results written`);
      continue;
    }
    checks += list.length;
    const bad = list.filter((c) => !OK_STATUSES.has(c.status));
    if (bad.length === 0) passed++;
    for (const c of bad) problems.push(`${scenario} ${c.id} ${c.status}: ${String(c.errorMessage ?? c.description ?? "").replace(/\s+/g, " ")}`);
  }
  return { passed, failed: scenarios.length - passed, checks, problems };
}
