/**
 * CPU profiles of a worker under `wrangler dev`, through workerd's inspector (the V8
 * `Profiler` domain; lib/inspector.mjs), and a summary of where the time went.
 */
import { devtools } from "./inspector.mjs";

/** Runs `work()` while the V8 sampling profiler records; resolves to the `.cpuprofile`. */
export async function profileWhile(wsUrl, work, intervalUs = 200) {
  const cdp = await devtools(wsUrl);
  try {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await cdp.send("Profiler.start");
    const result = await work();
    const { profile } = await cdp.send("Profiler.stop");
    return { profile, result };
  } finally {
    cdp.close();
  }
}

const keyOf = (frame) => `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
const shortUrl = (url) => url.replace(/^.*\/(node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?)?/, "").slice(-60);

/**
 * Self and inclusive milliseconds per function (name, file, line), from the
 * profile's samples. Inclusive time counts a function once per sample however
 * deep it recurses. `(idle)` and `(program)` are kept: they say how busy it was.
 */
export function summarize(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const leaf = keyOf(nodes.get(id).callFrame);
    self.set(leaf, (self.get(leaf) ?? 0) + ms);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(nodes.get(at).callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  });
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([fn, ms]) => ({ fn, ms }));
  return { totalMs: total, self: sorted(self), inclusive: sorted(inclusive) };
}
