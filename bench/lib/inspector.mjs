/**
 * The DevTools endpoint of a worker under the bench's `wrangler dev`: workerd's own
 * inspector, which lists one target per worker (`core:user:<name>`). workerd runs a
 * worker's Durable Objects in the worker's isolate, so the first user worker's target
 * covers the routing Worker and every object it calls. workerd takes one client per
 * target; the bench runs wrangler with its DevTools console relay off (lib/targets.mjs),
 * so that client is free for the heap and CPU figures.
 */
import { descendants, listeningPorts } from "./processes.mjs";

const CALL_TIMEOUT_MS = 120_000;
// miniflare adds workers of its own (the local trace collector) after the user's.
const isUserWorker = (target) => target.id?.startsWith("core:user:") && !target.id.startsWith("core:user:miniflare-");

/** The DevTools WebSocket URL of the first worker of the `wrangler dev` started as `rootPid`. */
export async function findInspector(rootPid) {
  for (const port of listeningPorts([rootPid, ...descendants(rootPid)])) {
    const list = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(1000) })
      .then((r) => (r.ok ? r.json() : []))
      .catch(() => []);
    const found = Array.isArray(list) && list.find(isUserWorker);
    if (found) return found.webSocketDebuggerUrl;
  }
  throw new Error(`no workerd inspector found under process ${rootPid}`);
}

/** Connects to a DevTools endpoint; `send(method, params)` resolves to the result. */
export async function devtools(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  let next = 0;
  const waiting = new Map();
  socket.addEventListener("message", (event) => {
    const text = String(event.data);
    // Events carry no id and none is awaited here; a heap snapshot's chunks are megabytes.
    if (text.startsWith('{"method":')) return;
    const message = JSON.parse(text);
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error) pending.reject(new Error(`DevTools: ${pending.method}: ${message.error.message}`));
    else pending.resolve(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        const timer = setTimeout(() => reject(new Error(`DevTools: ${method} did not answer in ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
        waiting.set(id, { resolve, reject, method, timer });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}
