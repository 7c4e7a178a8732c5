/**
 * Resume latency: how long a client that lost its standalone GET stream waits to
 * get back `events` notifications it missed, reconnecting with `Last-Event-ID`.
 *
 * Each round: note the id of the last event seen, drop the stream, have the server
 * emit `events` notifications (one `test_trigger_tool_change` call each, since no
 * tool emits many at once), then time from the reconnecting GET to the last missed
 * event parsed. The first event id comes from a live notification rather than a
 * priming event, because not every server primes the standalone stream.
 */
import { callTool, openSession, openStream, sseEvents } from "../lib/mcp-wire.mjs";
import { percentile } from "../lib/load.mjs";

const settle = (ms) => new Promise((r) => setTimeout(r, ms));

/** Reads `stream` until `count` notifications arrived; returns the last event's id. */
async function readNotifications(response, count) {
  let seen = 0;
  for await (const event of sseEvents(response)) {
    if (!event.data.includes('"notifications/tools/list_changed"')) continue;
    if (++seen === count) return event.id;
  }
  throw new Error(`stream ended after ${seen} of ${count} notifications`);
}

/**
 * @param {import("../lib/targets.mjs").ToolRef} trigger
 * @param {Awaited<ReturnType<import("../lib/mcp-wire.mjs").captureTemplates>>} templates  session lane
 */
export async function resumeLatency(trigger, templates, plan) {
  const sessionId = await openSession(templates);
  let id = 1;
  let controller = new AbortController();
  let stream = await openStream(templates, sessionId, { signal: controller.signal });
  if (!stream.ok) throw new Error(`GET stream answered ${stream.status}`);
  const first = readNotifications(stream, 1);
  await callTool(templates, sessionId, id++, trigger);
  let lastEventId = await first;
  if (!lastEventId) throw new Error("notifications carry no event id: the server keeps no event log");

  const times = [];
  for (let round = 0; round < plan.resumeRounds; round++) {
    controller.abort();
    await settle(50);
    for (let i = 0; i < plan.resumeEvents; i++) await callTool(templates, sessionId, id++, trigger);
    controller = new AbortController();
    const t0 = performance.now();
    stream = await openStream(templates, sessionId, { lastEventId, signal: controller.signal });
    if (!stream.ok) throw new Error(`resume answered ${stream.status}: ${(await stream.text()).slice(0, 200)}`);
    lastEventId = await readNotifications(stream, plan.resumeEvents);
    times.push(performance.now() - t0);
  }
  controller.abort();
  return { p50: percentile(times, 0.5), max: Math.max(...times), rounds: times.length, events: plan.resumeEvents };
}
