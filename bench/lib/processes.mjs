/**
 * What the operating system says about the servers under test: which processes a
 * `wrangler dev` started (it runs workerd as children of its own Node process), how
 * much resident memory they hold, and which ports they listen on. Linux only: it
 * reads /proc, which is where the figures come from anyway.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Every live process below `root` (not `root` itself). */
export function descendants(root) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const parent = parentOf(pid);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(pid);
  }
  const found = [];
  const queue = [root];
  while (queue.length) for (const child of children.get(queue.shift()) ?? []) found.push(child), queue.push(child);
  return found;
}

/** The workerd processes a `wrangler dev` started. */
export const workerdPids = (root) => descendants(root).filter((pid) => commandOf(pid) === "workerd");

/**
 * The workerd process that runs the worker itself. `wrangler dev` starts two: a
 * proxy that owns the port it was given (`entry=127.0.0.1:<port>`) and the runtime
 * of the worker and its Durable Objects, on a port of its own choosing.
 */
export const runtimePids = (root, port) =>
  workerdPids(root).filter((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${port}`);
    } catch {
      return false;
    }
  });

/** Resident set size in bytes, summed over `pids` (processes that are gone count 0). */
export function rssBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
      if (line) total += Number(line[1]) * 1024;
    } catch {}
  }
  return total;
}

/** TCP ports on which any of `pids` listens (from `ss`). */
export function listeningPorts(pids) {
  const wanted = new Set(pids.map(String));
  const out = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
  const ports = [];
  for (const line of out.split("\n")) {
    const pid = line.match(/pid=(\d+)/)?.[1];
    const port = line.match(/:(\d+)\s/)?.[1];
    if (pid && port && wanted.has(pid)) ports.push(Number(port));
  }
  return ports;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by `pids`. */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks / CLOCK_TICKS;
}

/** CPU seconds the whole machine has been busy (all cores, from /proc/stat). */
export function machineBusySeconds() {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/**
 * Waits (up to `maxMs`) until the machine is quiet: less than `cores` CPUs busy
 * over half a second. Other work on the machine (a test run, a build) would
 * otherwise land in the figures. Resolves to how long it waited.
 */
export async function waitForQuiet(maxMs, cores = 0.3) {
  const started = Date.now();
  for (;;) {
    const before = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 500));
    if ((machineBusySeconds() - before) / 0.5 < cores || Date.now() - started >= maxMs) return Date.now() - started;
  }
}
