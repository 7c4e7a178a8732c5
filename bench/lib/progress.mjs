/**
 * Progress lines on stderr, so stdout carries only the table: elapsed time, which
 * server, what is being measured, and the figure as soon as it is known.
 */
import { waitForQuiet } from "./processes.mjs";
import { describeFigure } from "./report.mjs";

const started = Date.now();

export function progress(who, message) {
  const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${elapsed}s] ${who.padEnd(8)} ${message}\n`);
}

/**
 * Runs one figure with progress lines around it, once the machine is quiet (or
 * `quietMs` passed). A figure that fails is recorded as `{ error }` with its
 * reason (for example a lane the server does not speak), so one missing figure
 * never costs the others. `wrangler dev` restarts its runtime when a source file
 * changes (someone editing the tree): a figure during which the runtime process
 * changed (`generation()`) is measured once more.
 */
export async function measured(who, name, run, { quietMs = 0, generation = () => "" } = {}) {
  for (let attempt = 1; ; attempt++) {
    const waited = quietMs > 0 ? await waitForQuiet(quietMs) : 0;
    progress(who, `${name} …${waited >= 1000 ? ` (waited ${(waited / 1000).toFixed(0)} s for other work to finish)` : ""}`);
    const before = generation();
    let value;
    try {
      value = await run();
    } catch (err) {
      value = { error: String(err?.message ?? err).split("\n")[0] };
    }
    if (generation() !== before && attempt === 1) {
      progress(who, `${name}: the server restarted meanwhile (source files changed?); measuring again`);
      continue;
    }
    progress(who, `${name}: ${value.error ? `not measured (${value.error})` : describeFigure(value)}`);
    return value;
  }
}
