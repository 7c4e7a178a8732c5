/**
 * The floor figures: its sequential round trip (the unit the resume target is
 * counted in), its throughput under the same load as every tools/call figure, and
 * the same insert into a new Durable Object each time: the least a session's
 * creation can cost where SPEC section 3 gives every session an object of its own.
 * The round trip is timed with plain fetch, as the resume figure is, so client
 * overhead cancels out of that ratio.
 */
import { measureLoad, percentile } from "../lib/load.mjs";

/** @param {import("../lib/targets.mjs").Target} target */
export async function floorRoundTrip(target, plan) {
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(target.url, { method: "POST", body: '{"title":"floor","body":"one row"}' });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`floor answered ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < Math.min(100, plan.rttSamples); i++) await once();
  const times = [];
  for (let i = 0; i < plan.rttSamples; i++) times.push(await once());
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/**
 * @param {import("../lib/targets.mjs").Target} target
 * @param {string} [object] another object than the floor's own (a paired run gets a fresh one, so
 *   every pair inserts into a table as small as the first run's)
 */
export function floorThroughput(target, plan, object) {
  return floorLoad(target, plan, object ? () => `/?object=${object}` : undefined);
}

/**
 * The floor's request with `?object=` naming a new object each time, so every request
 * creates a Durable Object and its SQLite database before the insert: the baseline of
 * the initialize figure beside the floor itself. Names carry the run's start time, so a
 * second run on the same state still creates new objects.
 * @param {import("../lib/targets.mjs").Target} target
 */
export function floorNewObjects(target, plan) {
  const run = Date.now().toString(36);
  return floorLoad(target, plan, (seq) => `/?object=new-${run}-${seq}`);
}

/** The floor's insert under the plan's load; `pathFor(seq)` picks each request's object. */
function floorLoad(target, plan, pathFor) {
  return measureLoad({
    url: target.url,
    connections: plan.connections,
    duration: plan.duration,
    warmup: plan.warmup,
    headersFor: () => ({ "content-type": "application/json" }),
    body: (seq) => `{"title":"floor ${seq}","body":"one row"}`,
    pathFor,
    cpu: target.cpu,
  });
}
