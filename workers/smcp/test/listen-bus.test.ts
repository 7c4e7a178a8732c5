/**
 * ListenBusDO, the change-event bus of one tenant's server that every isolate's listen
 * streams read (src/mcp/listen-bus-do.ts), driven over its RPC interface as the Worker
 * drives it: order, the bound on kept events and on streams, resuming after a cursor,
 * the alarm that deletes an idle bus, and tenants (and incarnations) kept apart by name.
 * The two-isolate delivery itself is test/e2e/cross-isolate.test.ts.
 */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import converterSource from "../../../examples/unit-converter.js?raw";
import { describe, expect, it } from "vitest";
import { listenBusObjectName, newIncarnation } from "@smcp/runtime";
import { MAX_EVENTS, type BusEvent, type BusLine, type ListenBusDO, type ListenFrom } from "../src/mcp/listen-bus-do";
import { ADMIN_TOKEN, EMPTY_STORAGE, ORIGIN, adminOk, busStub, provisionTenant, storageOf, uniqueName } from "./helpers";

const bus = (tenant: string, server = "everything", incarnation = "inc") =>
  env.LISTEN_BUS.get(env.LISTEN_BUS.idFromName(listenBusObjectName(tenant, incarnation, server)));

/** Reads a bus stream line by line. */
class Lines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<BusLine> {
    for (;;) {
      const newline = this.#buffered.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffered.slice(0, newline);
        this.#buffered = this.#buffered.slice(newline + 1);
        return JSON.parse(line);
      }
      const { done, value } = await this.#reader.read();
      if (done) throw new Error("the bus stream ended");
      this.#buffered += value;
    }
  }
  cancel = () => this.#reader.cancel();
}

async function open(stub: DurableObjectStub<ListenBusDO>, from: ListenFrom = { since: Date.now() }, cap = 8): Promise<Lines> {
  const opened = await stub.listen(from, cap);
  if (!opened.ok) throw new Error(`listen refused: ${opened.reason}`);
  return new Lines(opened.stream);
}

const tools: BusEvent = { kind: "tools_list_changed" };
const prompts: BusEvent = { kind: "prompts_list_changed" };

describe("ListenBusDO", () => {
  it("stateless:listen-cross-isolate — every stream gets every event once, in publish order, after a head line", async () => {
    const stub = bus(uniqueName("order"));
    const first = await open(stub);
    const second = await open(stub);
    expect(await first.next()).toEqual({ seq: 0 });
    expect(await second.next()).toEqual({ seq: 0 });
    const published: BusEvent[] = [tools, prompts, { kind: "resource_updated", uri: "test://a" }, { kind: "resources_list_changed" }, tools];
    for (const event of published) await stub.publish(event);
    for (const stream of [first, second]) {
      const got: BusLine[] = [];
      for (let i = 0; i < published.length; i++) got.push(await stream.next());
      expect(got).toEqual(published.map((event, i) => ({ seq: i + 1, event })));
    }
    await first.cancel();
    await second.cancel();
  });

  it("stateless:listen-cross-isolate — a stream reopened after a cursor gets what it missed, then live events; a new one gets what was published since it asked", async () => {
    const stub = bus(uniqueName("resume"));
    const asked = Date.now();
    for (let i = 0; i < 4; i++) await stub.publish(i % 2 ? prompts : tools);
    // Opened after the publishes, but asking from before them (the subscriber's own time).
    const fresh = await open(stub, { since: asked });
    expect(await fresh.next()).toEqual({ seq: 4 });
    expect((await fresh.next()).seq).toBe(1);
    await fresh.cancel();
    const resumed = await open(stub, { after: 2, since: 0 });
    expect(await resumed.next()).toEqual({ seq: 4 });
    expect(await resumed.next()).toEqual({ seq: 3, event: tools });
    expect(await resumed.next()).toEqual({ seq: 4, event: prompts });
    await stub.publish(tools);
    expect(await resumed.next()).toEqual({ seq: 5, event: tools });
    await resumed.cancel();
  });

  it("stateless:listen-cross-isolate — a bus keeps only the last MAX_EVENTS events, and its alarm deletes an idle bus", async () => {
    const stub = bus(uniqueName("bound"));
    for (let i = 0; i < MAX_EVENTS + 20; i++) await stub.publish(tools);
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ n: number; low: number; high: number }>("SELECT count(*) AS n, min(seq) AS low, max(seq) AS high FROM events").one(),
    );
    expect(rows).toEqual({ n: MAX_EVENTS, low: 21, high: MAX_EVENTS + 20 });
    const resumed = await open(stub, { after: 0, since: 0 });
    expect(await resumed.next()).toEqual({ seq: MAX_EVENTS + 20 });
    expect((await resumed.next()).seq).toBe(21);
    // While a stream is open the alarm keeps the bus; once none is, it deletes everything.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await storageOf(stub)).kvKeys).toContain("schemaVersion");
    await resumed.cancel();
    await expect.poll(() => stub.openStreams()).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
  });

  it("stateless:listen-scoped — a bus holds at most `cap` streams; a cancelled one frees its slot; a listen stores nothing", async () => {
    const stub = bus(uniqueName("cap"));
    const streams = [await open(stub, undefined, 2), await open(stub, undefined, 2)];
    expect(await stub.listen({ since: 0 }, 2)).toEqual({ ok: false, reason: "too-many-streams" });
    expect(await stub.openStreams()).toBe(2);
    await streams.pop()!.cancel();
    await expect.poll(() => stub.openStreams()).toBe(1);
    const again = await open(stub, undefined, 2);
    expect(await storageOf(stub)).toEqual(EMPTY_STORAGE);
    await again.cancel();
    await streams[0]!.cancel();
  });

  it("stateless:listen-scoped — what is not a change event is refused, and an oversized params is dropped", async () => {
    const stub = bus(uniqueName("shape"));
    const refused = { ok: false, reason: "not-a-change-event" };
    expect(await stub.publish({ kind: "tenant_deleted" } as unknown as BusEvent)).toEqual(refused);
    expect(await stub.publish({ kind: "resource_updated" } as unknown as BusEvent)).toEqual(refused);
    const stream = await open(stub);
    await stream.next();
    await stub.publish({ kind: "tools_list_changed", params: { note: "x".repeat(10_000) } });
    expect(await stream.next()).toEqual({ seq: 1, event: tools });
    await stream.cancel();
  });

  it("stateless:listen-scoped isolation:tenants — tenants, servers and incarnations each have a bus of their own", async () => {
    const a = uniqueName("bus-a");
    const b = uniqueName("bus-b");
    const names = [listenBusObjectName(a, "i", "s"), listenBusObjectName(b, "i", "s"), listenBusObjectName(a, "i", "t"), listenBusObjectName(a, newIncarnation(), "s")];
    expect(new Set(names).size).toBe(names.length);

    const streamB = await open(bus(b));
    const notes = await open(bus(a, "notes"));
    await streamB.next();
    await notes.next();
    await bus(a).publish(tools);
    // Each stream's first event is its own, published after the other's.
    await bus(b).publish(prompts);
    await bus(a, "notes").publish({ kind: "resources_list_changed" });
    expect(await streamB.next()).toEqual({ seq: 1, event: prompts });
    expect(await notes.next()).toEqual({ seq: 1, event: { kind: "resources_list_changed" } });

    // A tenant created again under the same id (a new incarnation) finds none of the old one's events kept.
    const renewed = await open(bus(a, "everything", newIncarnation()), { after: 0, since: 0 });
    expect(await renewed.next()).toEqual({ seq: 0 });
    for (const s of [streamB, notes, renewed]) await s.cancel();
  });

  it("stateless:listen-cross-isolate deployed:deployments-api — a deploy of new bytes and an activation publish the server's lists changed; the same bytes again publish nothing", async () => {
    const t = await provisionTenant({ prefix: "busdeploy", servers: [] });
    const deploy = async (source: string, status: number) => {
      const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/units/deployments`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
        body: source,
      });
      expect(res.status, await res.text()).toBe(status);
    };
    const changed = [{ kind: "tools_list_changed" }, { kind: "resources_list_changed" }, { kind: "prompts_list_changed" }];
    await deploy(converterSource, 201);
    const stream = await open(busStub(t.tenant, "units"), { since: 0 });
    expect(await stream.next()).toEqual({ seq: 3 });
    for (const [i, event] of changed.entries()) expect(await stream.next()).toEqual({ seq: i + 1, event });

    await deploy(converterSource, 200);
    await deploy(`${converterSource}\n// version 2\n`, 201);
    for (const [i, event] of changed.entries()) expect(await stream.next()).toEqual({ seq: i + 4, event });
    await adminOk("POST", `/tenants/${t.tenant}/servers/units/deployments/1/activate`);
    for (const [i, event] of changed.entries()) expect(await stream.next()).toEqual({ seq: i + 7, event });
    await stream.cancel();
  });
});
