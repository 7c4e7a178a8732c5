/**
 * Load generation with autocannon, the one shape every throughput figure uses.
 *
 * A run is a short warm-up (discarded) and a measured run with the same settings.
 * `headersFor(i)` gives connection i its own headers, so each connection can drive
 * its own MCP session (autocannon clones its options per connection, and
 * `setupClient` runs once per connection); `body(seq)` builds each request body so
 * every JSON-RPC request gets a fresh id, and `pathFor(seq)`, when given, its own path
 * (the floor's new-object figure addresses a fresh Durable Object each time). Each response body is checked for a
 * JSON-RPC error or a tool error, because an MCP server answers most failures
 * with HTTP 200; those count as errors beside non-2xx answers and socket errors.
 * Given `cpu()` (the server's CPU seconds so far, `{ runtime, total }`), it also
 * reports the server's CPU milliseconds per request over the measured run, and
 * how many cores other processes kept busy meanwhile (`otherCores`: noise).
 */
import autocannon from "autocannon";
import { machineBusySeconds } from "./processes.mjs";

/**
 * @param {{ url: string, connections: number, duration: number, warmup: number,
 *   headersFor: (i: number) => Record<string, string>, body: (seq: number) => string, pathFor?: (seq: number) => string, cpu?: () => { runtime: number, total: number } }} options
 * @returns {Promise<{ rps: number, p50: number, p99: number, requests: number, errors: number, cpuMsPerRequest?: number, cpuTotalMsPerRequest?: number }>}
 */
export async function measureLoad({ url, connections, duration, warmup, headersFor, body, pathFor, cpu }) {
  if (warmup > 0) await run({ url, connections, duration: warmup, headersFor, body, pathFor });
  const cpuBefore = cpu?.();
  const busyBefore = machineBusySeconds();
  const ownBefore = process.cpuUsage();
  const result = await run({ url, connections, duration, headersFor, body, pathFor });
  const own = process.cpuUsage(ownBefore);
  const busy = machineBusySeconds() - busyBefore - (own.user + own.system) / 1e6;
  if (cpu) {
    const cpuAfter = cpu();
    const perRequest = (field) => ((cpuAfter[field] - cpuBefore[field]) * 1000) / result.requests;
    result.cpuMsPerRequest = perRequest("runtime");
    result.cpuTotalMsPerRequest = perRequest("total");
    // What neither the server nor the load generator used: other work on the machine.
    result.otherCores = Math.max(0, (busy - (cpuAfter.total - cpuBefore.total)) / duration);
  }
  return result;
}

async function run({ url, connections, duration, headersFor, body, pathFor }) {
  let seq = 0;
  let client = 0;
  let bad = 0;
  const latencies = [];
  const instance = autocannon({
    url,
    connections,
    duration,
    method: "POST",
    timeout: 30,
    setupClient: (c) => c.setHeaders(headersFor(client++)),
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const n = ++seq;
          return { ...req, body: body(n), ...(pathFor ? { path: pathFor(n) } : {}) };
        },
        onResponse: (status, text) => {
          if (status < 300 && isFailure(text)) bad++;
        },
      },
    ],
  });
  // autocannon's own histogram has whole-millisecond buckets; keep the exact times.
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status < 300) latencies.push(ms);
  });
  const result = await instance;
  const errors = result.errors + result.timeouts + result.non2xx + bad;
  return {
    rps: result.requests.total / result.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requests: result.requests.total,
    errors,
  };
}

/** A JSON-RPC error or a tool result flagged `isError`, in a JSON or SSE body. */
export function isFailure(text) {
  return text.includes('"error":{"code"') || text.includes('"isError":true');
}

/** The q-quantile (0..1) of a list of numbers, nearest rank; NaN when empty. */
export function percentile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
