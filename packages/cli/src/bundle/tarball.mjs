/**
 * Unpacks an `npm pack` tarball (.tgz) into a directory, with Node's zlib and a tar reader
 * of the few entry types npm writes (files, directories, pax and GNU long names), so the
 * CLI needs no system `tar`. It writes regular files and directories only: links and
 * devices are skipped, and an entry whose path would leave the directory is refused.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { CliError } from "../errors.mjs";

const BLOCK = 512;

/**
 * @param {string} file the .tgz
 * @param {string} into an empty directory
 * @returns {string} the package directory inside it (npm packs under `package/`)
 */
export function extractTarball(file, into) {
  let tar;
  try {
    tar = gunzipSync(readFileSync(file));
  } catch (err) {
    throw new CliError(`${file} is not a gzipped tarball (${/** @type {Error} */ (err).message})`);
  }
  const top = new Set();
  for (const entry of entriesOf(tar)) {
    const name = entry.name.replace(/^\.?\/+/, "");
    const target = path.resolve(into, name);
    if (!target.startsWith(path.resolve(into) + path.sep)) throw new CliError(`${file}: the entry ${JSON.stringify(entry.name)} points outside the package`);
    top.add(name.split("/")[0]);
    if (entry.type === "5") mkdirSync(target, { recursive: true });
    else if (entry.type === "0" || entry.type === "\0" || entry.type === "7") {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, entry.data);
    }
  }
  // npm's top directory is `package`, but other packers name it otherwise; one top directory is the package.
  if (top.size === 1) return path.join(into, [...top][0]);
  return into;
}

/**
 * The entries of an uncompressed tar, long names already applied.
 * @param {Buffer} tar
 * @returns {Generator<{ name: string, type: string, data: Buffer }>}
 */
function* entriesOf(tar) {
  /** @type {string | undefined} */
  let longName;
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return;
    const size = parseInt(text(header, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(header[156]);
    const data = tar.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"))?.[1] ?? longName;
      continue;
    }
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    if (type === "g") continue;
    const prefix = text(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    yield { name, type, data };
  }
}

/** @param {Buffer} header @param {number} start @param {number} length */
function text(header, start, length) {
  return header.subarray(start, start + length).toString("utf8").replace(/\0.*$/s, "");
}
