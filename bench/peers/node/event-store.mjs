/**
 * An in-memory `EventStore` for the Node peer, one per session, as a Node process
 * keeps sessions in memory anyway. The SDK's example store cannot resume the
 * standalone GET stream (`_GET_stream` splits to an empty stream id), so this one
 * names events `{stream}.{seq}` like SMCP's log and keeps them in arrival order.
 */
export class MemoryEventStore {
  #events = [];
  #index = new Map();

  async storeEvent(streamId, message) {
    const id = `${streamId}.${this.#events.length + 1}`;
    this.#index.set(id, this.#events.length);
    this.#events.push({ id, streamId, message });
    return id;
  }

  async replayEventsAfter(lastEventId, { send }) {
    const at = this.#index.get(lastEventId);
    if (at === undefined) throw new Error(`unknown event id ${lastEventId}`);
    const { streamId } = this.#events[at];
    for (let i = at + 1; i < this.#events.length; i++) {
      const event = this.#events[i];
      if (event.streamId !== streamId || Object.keys(event.message).length === 0) continue;
      await send(event.id, event.message);
    }
    return streamId;
  }
}
