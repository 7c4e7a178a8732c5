/**
 * Where each source file says it is: `import.meta.url` (and Node's `import.meta.dirname`
 * / `import.meta.filename`), `__dirname` and `__filename` become that file's place in the
 * deployed package, `file:///app/<path in the package>` (a dependency's files
 * `file:///app/node_modules/<package>/<path>`), so `join(__dirname, "../docs")` finds the
 * package files that travel with the bundle.
 *
 * esbuild's `define` is global, so it maps each of them to an identifier, and an onLoad
 * hook declares that identifier at the top of each file that mentions one: esbuild keeps
 * top-level names per file apart when it joins them, which makes the value per file.
 * Files that mention none are left to esbuild untouched.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

export const ROOT = "/app";

/** The `define` option these declarations go with. */
export const LOCATION_DEFINES = {
  "import.meta.url": "__smcp_meta_url",
  "import.meta.dirname": "__smcp_dirname",
  "import.meta.filename": "__smcp_filename",
  __dirname: "__smcp_dirname",
  __filename: "__smcp_filename",
};

const MENTIONS = /import\.meta|__dirname|__filename/;
/** @type {Record<string, import("esbuild").Loader>} */
const LOADERS = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".jsx": "jsx" };

/**
 * The absolute path a file of the bundle has in the deployed server's file system.
 * @param {string} file a real path on this machine
 * @param {string} packageDir
 */
export function deployedPath(file, packageDir) {
  const relative = path.relative(packageDir, file);
  if (!relative.startsWith("..") && !path.isAbsolute(relative)) return path.posix.join(ROOT, ...relative.split(path.sep));
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  if (at >= 0) return path.posix.join(ROOT, "node_modules", ...parts.slice(at + 1));
  return path.posix.join(ROOT, path.basename(file));
}

/**
 * @param {string} packageDir
 * @returns {import("esbuild").Plugin}
 */
export function fileLocations(packageDir) {
  return {
    name: "smcp-file-locations",
    setup(build) {
      build.onLoad({ filter: /\.[mc]?[jt]sx?$/ }, async (args) => {
        const source = await readFile(args.path, "utf8");
        if (!MENTIONS.test(source)) return undefined;
        const filename = deployedPath(args.path, packageDir);
        const declare =
          `var __smcp_meta_url = ${JSON.stringify(new URL(`file://${filename}`).href)}, ` +
          `__smcp_dirname = ${JSON.stringify(path.posix.dirname(filename))}, __smcp_filename = ${JSON.stringify(filename)};`;
        // A hashbang must stay the first line; the declaration joins the next one, so line numbers hold.
        const hashbang = /^#![^\n]*\n/.exec(source)?.[0] ?? "";
        return { contents: hashbang + declare + source.slice(hashbang.length), loader: LOADERS[path.extname(args.path)] ?? "js" };
      });
    },
  };
}
