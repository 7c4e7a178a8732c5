/**
 * A list change reaching many listeners (2026-07-28 `subscriptions/listen`): opens
 * `plan.listeners` listen streams on one server of the bench tenant, then has one
 * tool call publish a list change (`everything`'s `test_trigger_tool_change`, whose
 * `ctx.notify` goes to the server's ListenBusDO and from it to every stream), and
 * times from that call sent to each stream's `notifications/tools/list_changed`.
 *
 * A stream's response arrives before its bus subscription is in place, so a first
 * change, untimed, must reach every stream before the timed rounds start. Each round
 * waits for all listeners before the next. Per round: the median listener and the
 * last one (all of them reached); the figure is the median over rounds of each, and
 * the worst listener of any round. Its baseline is the floor round trip.
 */
import { percentile } from "../lib/load.mjs";
import { callTool, sseEvents, statelessRequest } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";

const CHANGE = '"notifications/tools/list_changed"';
/** A change that has not reached every listener by then fails the figure. */
const ROUND_TIMEOUT_MS = 15_000;

/**
 * @param {import("../lib/targets.mjs").ToolRef} trigger  a tool that publishes a tools list change
 * @param {{ url: string, call: object }} templates  the stateless lane of the trigger's server
 */
export async function listChangeFanOut(trigger, templates, plan) {
  const controller = new AbortController();
  const heard = Array.from({ length: plan.listeners }, () => []);
  let wake = () => {};
  try {
    const streams = await pool(plan.listeners, 10, async (i) => {
      const { headers, body } = statelessRequest(templates, i + 1, "subscriptions/listen", { notifications: { toolsListChanged: true } });
      const res = await fetch(templates.url, { method: "POST", headers, body, signal: controller.signal });
      if (!res.ok || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
        throw new Error(`subscriptions/listen ${i + 1} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      }
      return res;
    });
    streams.forEach((res, i) => {
      void (async () => {
        for await (const event of sseEvents(res)) {
          if (!event.data.includes(CHANGE)) continue;
          heard[i].push(performance.now());
          wake();
        }
      })().catch(() => {}); // aborted at the end
    });
    let id = 1;
    /** Publishes one change; resolves to its send time once every listener heard `count` changes. */
    const change = async (count) => {
      const t0 = performance.now();
      await callTool(templates, null, id++, trigger);
      const deadline = t0 + ROUND_TIMEOUT_MS;
      while (heard.some((h) => h.length < count)) {
        const left = deadline - performance.now();
        const reached = heard.filter((h) => h.length >= count).length;
        if (left <= 0) throw new Error(`a list change reached ${reached} of ${plan.listeners} listeners in ${ROUND_TIMEOUT_MS / 1000} s`);
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(left, 100));
        });
      }
      return t0;
    };
    await change(1); // every stream subscribed to the bus
    const rounds = [];
    for (let round = 0; round < plan.listenRounds; round++) {
      const t0 = await change(round + 2);
      const took = heard.map((h) => h[round + 1] - t0);
      rounds.push({ p50: percentile(took, 0.5), all: Math.max(...took) });
    }
    return {
      listeners: plan.listeners,
      rounds: rounds.length,
      p50: percentile(rounds.map((r) => r.p50), 0.5),
      all: percentile(rounds.map((r) => r.all), 0.5),
      worst: Math.max(...rounds.map((r) => r.all)),
    };
  } finally {
    controller.abort();
  }
}
