// promtool, Prometheus' own checker, for the tests of SMCP's exposition (`promtool check
// metrics` parses with Prometheus' text parser and lints). Taken from PATH when there is
// one; otherwise unpacked, without installing anything system-wide, from Debian's
// `prometheus` package (`apt-get download`, then `dpkg-deb -x` into node_modules/.cache).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CACHE = path.join(ROOT, "node_modules/.cache/smcp-promtool");
const UNPACKED = path.join(CACHE, "root/usr/bin/promtool");

function onPath() {
  const found = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : null;
}

function unpack() {
  mkdirSync(CACHE, { recursive: true });
  const download = () => spawnSync("apt-get", ["download", "prometheus"], { cwd: CACHE, encoding: "utf8" });
  let got = download();
  // A machine whose package lists were never fetched knows no candidate yet.
  if (got.status !== 0) {
    spawnSync("apt-get", ["update"], { encoding: "utf8" });
    got = download();
  }
  const deb = readdirSync(CACHE).find((f) => f.startsWith("prometheus_") && f.endsWith(".deb"));
  if (!deb) throw new Error(`promtool: could not download Debian's prometheus package: ${got.stderr || got.stdout}`);
  execFileSync("dpkg-deb", ["-x", path.join(CACHE, deb), path.join(CACHE, "root")]);
}

/** The path of a working promtool (unpacked on first use). */
export function promtool() {
  const found = onPath();
  if (found) return found;
  if (!existsSync(UNPACKED)) unpack();
  return UNPACKED;
}

/** `promtool check metrics` on `text`: ok when it parses and lints clean; `output` says why not. */
export function checkMetrics(text) {
  const run = spawnSync(promtool(), ["check", "metrics"], { input: text, encoding: "utf8" });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}
