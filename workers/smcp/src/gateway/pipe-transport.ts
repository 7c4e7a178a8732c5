/**
 * The client side of an upstream relay (relay.ts) when the client is not a session
 * transport: the stateless lane's upstream object hands the relay one request at a
 * time and routes what the relay sends back by request id. An answer ends its
 * request's route; the upstream's notifications about a call go to that call; the
 * upstream's own requests and what it sends outside any call go to the handlers given.
 */
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from "@modelcontextprotocol/server";
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResponse } from "@modelcontextprotocol/server";
import type { RelayTransport } from "../mcp/client-side-relay";

export interface Route {
  message(m: JSONRPCMessage): void;
  /** After the answer (or an error in its place) went to `message`. */
  end(): void;
}

export interface PipeHandlers {
  /** `related`: the request of SMCP's the upstream sent it about, if any. */
  upstreamRequest(m: JSONRPCRequest, related: RequestId | undefined): void;
  standalone(m: JSONRPCMessage): void;
}

export class PipeTransport {
  readonly #routes = new Map<RequestId, Route>();
  readonly #handlers: PipeHandlers;
  #onmessage: ((m: JSONRPCMessage) => void) | undefined;

  constructor(handlers: PipeHandlers) {
    this.#handlers = handlers;
  }

  asTransport(): RelayTransport {
    const send = async (message: JSONRPCMessage, options?: { relatedRequestId?: RequestId }) => this.#fromRelay(message, options?.relatedRequestId);
    const transport: RelayTransport = {
      send,
      start: async () => {},
      set onmessage(fn: ((m: JSONRPCMessage) => void) | undefined) {
        pipe.#onmessage = fn;
      },
      get onmessage() {
        return pipe.#onmessage;
      },
    };
    const pipe = this;
    return transport;
  }

  /** A message for the relay, as if the client had sent it. */
  deliver(message: JSONRPCMessage): void {
    this.#onmessage?.(message);
  }

  /** Whether `id` still waits for its answer. */
  waiting(id: RequestId): boolean {
    return this.#routes.has(id);
  }

  expect(id: RequestId, route: Route): void {
    this.#routes.set(id, route);
  }

  /** Forgets a route (its answer, if any comes, is dropped); true when it was waiting. */
  cancel(id: RequestId): boolean {
    return this.#routes.delete(id);
  }

  /** Sends `request` and resolves with its answer. */
  ask(request: JSONRPCRequest): Promise<JSONRPCMessage> {
    return new Promise((resolve) => {
      this.expect(request.id, { message: resolve, end: () => {} });
      this.deliver(request);
    });
  }

  /** Ends every waiting request with an error (the upstream session is going away). */
  endAll(message: string): void {
    for (const [id, route] of this.#routes) {
      this.#routes.delete(id);
      route.message({ jsonrpc: "2.0", id, error: { code: -32603, message } });
      route.end();
    }
  }

  #fromRelay(message: JSONRPCMessage, related: RequestId | undefined): void {
    if (isJSONRPCResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = (message as { id: RequestId }).id;
      const route = this.#routes.get(id);
      if (!route) return;
      this.#routes.delete(id);
      route.message(message);
      route.end();
      return;
    }
    if (isJSONRPCRequest(message)) return this.#handlers.upstreamRequest(message, related);
    const route = related === undefined ? undefined : this.#routes.get(related);
    if (route) route.message(message);
    else this.#handlers.standalone(message);
  }
}
