/**
 * The floor figures: its sequential round trip (the unit the resume target is
 * counted in) and its throughput under the same load as every tools/call figure.
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

/** @param {import("../lib/targets.mjs").Target} target */
export function floorThroughput(target, plan) {
  return measureLoad({
    url: target.url,
    connections: plan.connections,
    duration: plan.duration,
    warmup: plan.warmup,
    headersFor: () => ({ "content-type": "application/json" }),
    body: (seq) => `{"title":"floor ${seq}","body":"one row"}`,
    cpu: target.cpu,
  });
}
