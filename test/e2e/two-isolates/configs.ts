/**
 * The configs of the two-isolate `wrangler dev`: the front (front.jsonc), SMCP as
 * deployed (wrangler.jsonc) and SMCP's second isolate (wrangler.b.jsonc), each written
 * to `dir` with `vars` added. `wrangler dev --var` reaches only the first Worker of a
 * session with several configs, and the front is first, so the variables go into the
 * configs themselves.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
// @ts-expect-error plain ESM helpers shared with the scripts
import { ROOT } from "../../../scripts/lib/wrangler.mjs";

const SOURCES = ["test/e2e/two-isolates/front.jsonc", "wrangler.jsonc", "test/e2e/two-isolates/wrangler.b.jsonc"];

/** JSONC without its whole-line comments (the only kind these configs use). */
const parseJsonc = (text: string) => JSON.parse(text.replace(/^\s*\/\/.*$/gm, ""));

/** Writes the three configs into `dir`; returns their paths, the front first. */
export function writeTwoIsolateConfigs(dir: string, vars: Record<string, string>): string[] {
  return SOURCES.map((source, i) => {
    const from = path.join(ROOT, source);
    const config = parseJsonc(readFileSync(from, "utf8"));
    delete config.$schema;
    config.main = path.resolve(path.dirname(from), config.main);
    if (config.vars) config.vars = { ...config.vars, ...vars };
    const to = path.join(dir, `${i}-${path.basename(source)}`);
    writeFileSync(to, JSON.stringify(config, null, 2));
    return to;
  });
}
