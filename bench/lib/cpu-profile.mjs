/**
 * CPU profiles of a worker under `wrangler dev`, through the inspector wrangler
 * serves for DevTools (the V8 `Profiler` domain), and a summary of where the time
 * went. workerd runs a worker's Durable Objects in the worker's isolate, so one
 * profile covers the routing Worker and every object it calls. workerd's own
 * inspector takes one client and wrangler is it, hence wrangler's proxy, which
 * wants an `Origin` header as a browser would send.
 */
import { descendants, listeningPorts } from "./processes.mjs";

/** The DevTools WebSocket URL wrangler serves for the `wrangler dev` started as `rootPid`. */
export async function findInspector(rootPid) {
  for (const port of listeningPorts([rootPid, ...descendants(rootPid)])) {
    const list = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(1000) })
      .then((r) => (r.ok ? r.json() : []))
      .catch(() => []);
    const found = Array.isArray(list) && list.find((t) => t.webSocketDebuggerUrl?.endsWith("/ws"));
    if (found) return found.webSocketDebuggerUrl;
  }
  throw new Error(`no wrangler inspector found under process ${rootPid}`);
}

/** Connects to a DevTools endpoint; `send(method, params)` resolves to the result. */
export async function devtools(url) {
  const socket = new WebSocket(url, { headers: { origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  let next = 0;
  const waiting = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.error) pending.reject(new Error(message.error.message));
    else pending.resolve(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

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
