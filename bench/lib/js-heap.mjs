/**
 * The JavaScript heap a `wrangler dev` worker keeps after a full garbage collection,
 * read over wrangler's DevTools proxy (`--inspector-port`) with the Chrome DevTools
 * Protocol: `HeapProfiler.takeHeapSnapshot` (which runs a full collection first; workerd
 * does not answer `HeapProfiler.collectGarbage`), then `Runtime.getHeapUsage`. RSS mixes what
 * the worker's code keeps with what workerd keeps natively per Durable Object and with
 * garbage not yet collected; this figure is the first alone, so it shows whether idle
 * sessions let go of their objects.
 *
 * The proxy is the way in: workerd's own inspector serves one client per worker, and
 * wrangler holds it. The proxy accepts loopback origins only, so the request names one.
 */
const CALL_TIMEOUT_MS = 120_000;

/** Sends `methods` in order over one DevTools connection; resolves to the answer of the last. */
async function devtools(url, methods) {
  const socket = new WebSocket(url, { headers: { Origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`DevTools proxy ${url} refused the connection`));
  });
  const last = methods.length;
  try {
    return await new Promise((resolve, reject) => {
      // The proxy passes on answers to Runtime methods; V8 handles messages in order, so
      // the answer to the last one comes after the collection has run.
      socket.onmessage = (event) => {
        const text = String(event.data);
        // Skips the snapshot's chunks (megabytes) without parsing them.
        if (text.startsWith('{"method":"HeapProfiler.addHeapSnapshotChunk"')) return;
        const message = JSON.parse(text);
        if (message.id !== last) return;
        if (message.error) reject(new Error(`DevTools: ${methods[last - 1]}: ${message.error.message}`));
        else resolve(message.result);
      };
      setTimeout(() => reject(new Error(`DevTools: ${methods[last - 1]} did not answer in ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS).unref();
      methods.forEach((method, i) => socket.send(JSON.stringify({ id: i + 1, method, params: {} })));
    });
  } finally {
    socket.close();
  }
}

/** Bytes in use on the JavaScript heap of the worker behind the DevTools proxy on `port`, after a full collection. */
export async function jsHeapBytes(port) {
  const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5_000) });
  const [target] = await res.json();
  if (!target?.webSocketDebuggerUrl) throw new Error(`DevTools proxy on ${port} lists no worker`);
  const usage = await devtools(target.webSocketDebuggerUrl, ["HeapProfiler.takeHeapSnapshot", "Runtime.getHeapUsage"]);
  return usage.usedSize;
}
