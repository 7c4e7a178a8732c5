/**
 * Session creation rate: the SDK client's `initialize`, replayed by autocannon
 * without a session id, so every request creates a session (and whatever the
 * server keeps for one). The `notifications/initialized` that follows in a real
 * handshake is not part of this figure.
 */
import { measureLoad } from "../lib/load.mjs";
import { headersOf } from "../lib/mcp-wire.mjs";

export function initializeRate(templates, plan, cpu) {
  const { body } = templates.initialize;
  return measureLoad({
    url: templates.url,
    connections: plan.connections,
    duration: plan.duration,
    warmup: plan.warmup,
    headersFor: () => headersOf(templates.initialize),
    body: (seq) => JSON.stringify({ ...body, id: seq }),
    cpu,
  });
}
