/**
 * Slots of listen streams whose clients left, and idle upstream sessions (issue 14's
 * merge findings). A quiet `subscriptions/listen` stream learns that its client left only
 * when it next writes (under `wrangler dev` a client's `close()` reaches the Worker no
 * other way): every listen stream carries a keepalive comment, so its per-isolate slot
 * and the server's ListenBusDO count are given back. A 2026 client's upstream session of
 * a 2025 upstream is deleted upstream once idle for SMCP_UPSTREAM_IDLE_SECONDS.
 */
import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { TASKS_EXTENSION, post2026 } from "./raw-2026";
import { UPSTREAM_KEY, seen, startUpstream, stopUpstream, urlOf } from "./upstream-server";

/** Listen streams per tenant per isolate and per server's bus. */
const LISTEN_CAP = 2;
const platform = new Platform({ vars: { SMCP_MAX_LISTEN_STREAMS_PER_TENANT: String(LISTEN_CAP), SMCP_UPSTREAM_IDLE_SECONDS: "2" } });
let upstream: http.Server;

/** A raw 2026-07-28 `subscriptions/listen` (task ids need a raw request: SDK Client 2.4.0 has no task listen). */
function listen(t: { tenant: string; key: string }, server: string, notifications: Record<string, unknown>): Promise<Response> {
  return post2026(platform.mcpUrl(t.tenant, server), t.key, "subscriptions/listen", { notifications }, { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
}

const isStream = (res: Response) => res.headers.get("content-type")?.startsWith("text/event-stream") ?? false;

/**
 * Listens until one is admitted; answers the 429s seen before it. The bound is generous
 * for the 2 s keepalive (a gone client is noticed at its first or second write) and below
 * the 15 s of the SDK's own keepalive, the only other write on a quiet stream: without
 * SMCP's keepalive the slots come back after 15 to 30 s, and this fails.
 */
async function admittedWithin(t: { tenant: string; key: string }, server: string, notifications: Record<string, unknown>): Promise<number> {
  const deadline = Date.now() + 12_000;
  let refused = 0;
  for (;;) {
    const res = await listen(t, server, notifications);
    if (isStream(res)) {
      await res.body!.cancel();
      return refused;
    }
    expect(res.status, await res.text()).toBe(429);
    refused++;
    if (Date.now() > deadline) throw new Error(`no listen admitted on ${server} after its clients left`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits for `condition`, failing with `what` when it does not come true in a generous bound. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  upstream = await startUpstream();
  await platform.start();
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
});

async function frontedTenant(id: string): Promise<{ tenant: string; key: string }> {
  const t = await platform.tenant(id);
  const res = await fetch(`${platform.url}/admin/v1/tenants/${t.tenant}/servers/remote/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: UPSTREAM_KEY });
  expect(res.status, await res.text()).toBeLessThan(300);
  await platform.admin().call("PUT", `/tenants/${t.tenant}/servers/remote/upstream`, { url: urlOf(upstream), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
  return t;
}

describe("idle upstream sessions of the stateless lane", () => {
  it("upstream:stateless-idle upstream:stateless-principal — a principal's upstream session idle for SMCP_UPSTREAM_IDLE_SECONDS is deleted upstream; its next request opens a new one", async () => {
    const t = await frontedTenant("lr-idle");
    // Counted by the client name the session was opened for: SMCP's health probe opens and deletes sessions of its own.
    const opened = () => seen.initializedClients.filter((n) => n === "lr-idle-client").length;
    const closed = () => seen.closedClients.filter((n) => n === "lr-idle-client").length;
    const { client } = await platform.connect(t.tenant, "remote", t.key, { lane: "stateless", clientName: "lr-idle-client" });
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "before" } }))).toBe("echo: before");
    expect(opened()).toBe(1);
    await until(() => closed() === 1, "the idle upstream session was deleted");
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("echo: after");
    expect(opened()).toBe(2);
    await client.close();
  });
});

describe("listen streams whose clients left", () => {
  for (const server of ["everything", "remote"]) {
    it(`stateless:listen-keepalive stateless:listen-scoped — ${server}: listen streams up to the cap, closed by their SDK clients, give their slots back; a new listen is admitted`, async () => {
      const t = server === "remote" ? await frontedTenant(`lr-${server}`) : await platform.tenant(`lr-${server}`);
      for (let i = 0; i < LISTEN_CAP; i++) {
        const { client } = await platform.connect(t.tenant, server, t.key, { lane: "stateless" });
        const subscription = await client.listen({ toolsListChanged: true });
        await subscription.close();
        await client.close();
      }
      // Both were admitted and are still counted until their next write fails: the cap is reached first.
      expect(await admittedWithin(t, server, { toolsListChanged: true })).toBeGreaterThan(0);
    });
  }

  it("stateless:listen-keepalive tasks:notifications — task listens up to the cap, cancelled by their client, give their slots back; a new listen is admitted", async () => {
    const t = await platform.tenant("lr-tasks");
    const filter = { taskIds: ["no-such-task"], toolsListChanged: true };
    for (let i = 0; i < LISTEN_CAP; i++) {
      const res = await listen(t, "everything", filter);
      expect(isStream(res), await (isStream(res) ? Promise.resolve("") : res.text())).toBe(true);
      await res.body!.cancel();
    }
    expect(await admittedWithin(t, "everything", filter)).toBeGreaterThan(0);
  });
});
