/**
 * The package's files that travel with the bundle, readable at run time under the root
 * (`/app/<path in the package>`): every file that is not code (package.json among them). Code
 * is in the bundle already; node_modules, .git and test directories are not the
 * server's, and source maps and type declarations are never read at run time. Symbolic
 * links are not followed, so nothing outside the package directory is sent.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./file-locations.mjs";

const SKIPPED_DIRS = new Set(["node_modules", ".git", "test", "tests", "__tests__"]);
const CODE = /\.([mc]?[jt]sx?|map)$/;

/** @typedef {Record<string, { text: string } | { base64: string }>} PackageFiles */

/**
 * @param {string} packageDir
 * @returns {PackageFiles}
 */
export function packageFiles(packageDir) {
  /** @type {PackageFiles} */
  const files = {};
  /** @param {string} dir @param {string[]} at */
  const walk = (dir, at) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const relative = [...at, entry.name];
      if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) walk(path.join(dir, entry.name), relative);
      else if (entry.isFile() && !CODE.test(entry.name)) {
        files[path.posix.join(ROOT, ...relative)] = contentOf(readFileSync(path.join(dir, entry.name)));
      }
    }
  };
  walk(packageDir, []);
  return files;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Text when the bytes are UTF-8 without NUL, else base64. @param {Buffer} bytes */
function contentOf(bytes) {
  if (!bytes.includes(0)) {
    try {
      return { text: utf8.decode(bytes) };
    } catch {
      // not UTF-8: base64 below
    }
  }
  return { base64: bytes.toString("base64") };
}
