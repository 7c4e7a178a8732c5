/**
 * Which file of a package starts its server, read from package.json as npm and Node
 * would: a `bin` (the only one, or the one named like the package, since `npx <package>`
 * runs that one), else the `"."` export under the conditions the bundle is built with,
 * else `main`, else `index.js`.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { CliError } from "../errors.mjs";

/**
 * The export conditions the bundle resolves with, in order (esbuild's `conditions`). esbuild
 * adds `import` or `require` itself, by how each module is loaded: naming `import` here
 * would make a `require()` of a dual package get its ES module wrapper (pg's
 * `require("pg-pool")` a namespace where Node gives the class).
 */
export const CONDITIONS = ["workerd", "worker", "node"];

/**
 * @param {string} dir the package directory
 * @param {Record<string, any>} pkg its package.json
 * @returns {string} the entry's absolute path
 */
export function entryOf(dir, pkg) {
  const relative = binOf(pkg) ?? exportOf(pkg.exports) ?? (typeof pkg.main === "string" ? pkg.main : undefined) ?? "index.js";
  const file = withExtension(path.resolve(dir, relative));
  if (!file) throw new CliError(`${pkg.name ?? dir}: its entry ${relative} is not in the package`);
  return file;
}

/** @param {Record<string, any>} pkg */
function binOf(pkg) {
  if (typeof pkg.bin === "string") return pkg.bin;
  if (!pkg.bin || typeof pkg.bin !== "object") return undefined;
  const names = Object.keys(pkg.bin);
  if (names.length === 1) return pkg.bin[names[0]];
  const bare = String(pkg.name ?? "").replace(/^@[^/]+\//, "");
  if (typeof pkg.bin[bare] === "string") return pkg.bin[bare];
  throw new CliError(`${pkg.name}: its package.json names several commands (${names.join(", ")}) and none is named like the package; give the file to deploy instead`);
}

/**
 * The target of `exports["."]` (or of `exports` itself when it has no subpaths).
 * @param {unknown} exports
 * @returns {string | undefined}
 */
function exportOf(exports) {
  if (exports && typeof exports === "object" && !Array.isArray(exports) && "." in exports) return target(/** @type {any} */ (exports)["."]);
  if (exports && typeof exports === "object" && Object.keys(exports).some((k) => k.startsWith("."))) return undefined;
  return target(exports);
}

/**
 * @param {unknown} value a conditional export
 * @returns {string | undefined}
 */
function target(value) {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(target).find((t) => t !== undefined);
  if (!value || typeof value !== "object") return undefined;
  // The entry is loaded as Node loads a bin or `import`s the package.
  for (const condition of [...CONDITIONS, "import", "default"]) {
    if (condition in value) {
      const found = target(/** @type {any} */ (value)[condition]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** @param {string} file */
function withExtension(file) {
  for (const candidate of [file, `${file}.js`, `${file}.mjs`, path.join(file, "index.js")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}
