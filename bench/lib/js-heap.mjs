/**
 * The JavaScript heap a `wrangler dev` worker keeps after a full garbage collection,
 * read over workerd's inspector with the Chrome DevTools Protocol:
 * `HeapProfiler.takeHeapSnapshot` (which runs a full collection first; workerd does not
 * answer `HeapProfiler.collectGarbage`), then `Runtime.getHeapUsage`. RSS mixes what the
 * worker's code keeps with what workerd keeps natively per Durable Object and with
 * garbage not yet collected; this figure is the first alone, so it shows whether idle
 * sessions let go of their objects.
 */
import { devtools } from "./inspector.mjs";

/** Bytes in use on the JavaScript heap of the worker at DevTools URL `wsUrl`, after a full collection. */
export async function jsHeapBytes(wsUrl) {
  const cdp = await devtools(wsUrl);
  try {
    await cdp.send("HeapProfiler.takeHeapSnapshot");
    const usage = await cdp.send("Runtime.getHeapUsage");
    return usage.usedSize;
  } finally {
    cdp.close();
  }
}
