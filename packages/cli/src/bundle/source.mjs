/**
 * What `smcp deploy` was pointed at, as a package directory and an entry file: a file, a
 * package directory, an `npm pack` tarball (unpacked to a temporary directory, removed
 * by `dispose`) or the name of a package installed in node_modules above the current
 * directory. A tarball carries no dependencies, so its bundle resolves them from the
 * node_modules above the current directory (`nodePaths`), as if it were installed there.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CliError } from "../errors.mjs";
import { entryOf } from "./entry.mjs";
import { extractTarball } from "./tarball.mjs";

/**
 * @typedef {object} Source
 * @property {"file" | "directory" | "tarball" | "installed"} from
 * @property {string} packageDir the package's real directory: the deployed server's root (`/app`)
 * @property {string} entry the file that starts the server
 * @property {Record<string, any> | null} pkg its package.json (null for a lone file)
 * @property {string[]} nodePaths extra directories to resolve dependencies from
 * @property {() => void} dispose removes what resolving made (a tarball's directory)
 */

/**
 * @param {string} input a path or a package name
 * @param {string} cwd
 * @returns {Source}
 */
export function resolveSource(input, cwd) {
  const at = path.resolve(cwd, input);
  const stat = existsSync(at) ? statSync(at) : null;
  if (stat?.isFile() && /\.(tgz|tar\.gz)$/.test(at)) {
    const temp = mkdtempSync(path.join(tmpdir(), "smcp-deploy-"));
    try {
      const dir = extractTarball(at, temp);
      return { ...fromDirectory(dir, "tarball"), nodePaths: nodeModulesAbove(cwd), dispose: () => rmSync(temp, { recursive: true, force: true }) };
    } catch (err) {
      rmSync(temp, { recursive: true, force: true });
      throw err;
    }
  }
  if (stat?.isFile()) {
    const entry = realpathSync(at);
    return { from: "file", packageDir: path.dirname(entry), entry, pkg: null, nodePaths: [], dispose() {} };
  }
  if (stat?.isDirectory()) return fromDirectory(at, "directory");
  const installed = installedPackage(input, cwd);
  if (installed) return fromDirectory(installed, "installed");
  throw new CliError(`${input} is not a file, a directory, an npm pack tarball (.tgz) or a package installed in node_modules above ${cwd}`);
}

/**
 * @param {string} dir
 * @param {Source["from"]} from
 * @returns {Source}
 */
function fromDirectory(dir, from) {
  const packageDir = realpathSync(dir);
  const manifest = path.join(packageDir, "package.json");
  if (!existsSync(manifest)) throw new CliError(`${dir} has no package.json; give the server's file instead`);
  /** @type {Record<string, any>} */
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(manifest, "utf8"));
  } catch (err) {
    throw new CliError(`${manifest} is not JSON (${/** @type {Error} */ (err).message})`);
  }
  return { from, packageDir, entry: entryOf(packageDir, pkg), pkg, nodePaths: [], dispose() {} };
}

/**
 * `node_modules/<name>` in the current directory or one above it, as Node resolves a bare name.
 * @param {string} name
 * @param {string} cwd
 */
function installedPackage(name, cwd) {
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return undefined;
  return nodeModulesAbove(cwd)
    .map((dir) => path.join(dir, name))
    .find((dir) => existsSync(path.join(dir, "package.json")));
}

/** @param {string} cwd */
function nodeModulesAbove(cwd) {
  const dirs = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "node_modules"))) dirs.push(path.join(dir, "node_modules"));
    if (path.dirname(dir) === dir) return dirs;
  }
}
