/**
 * What every relay backend (a deployed SDK server's instance, a gateway's upstream) does
 * on the client's side of the session the same way: take the session's transport, hand
 * its messages on one at a time in arrival order (a message waits for the (re)start or
 * re-initialization the one before it began), and on restore mark the transport
 * initialized and keep the client's `initialize` params, which the relay replays into
 * its other end before the next message.
 */
import type { JSONRPCMessage, RequestId, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { restoreInitializedTransport, type InitializeParams } from "./restore-session";
import type { SessionBackend } from "./session-backend";

/** What a relay needs of its client's side: a session's transport, or the stateless lane's pipe (gateway/pipe-transport.ts). */
export interface RelayTransport {
  send(message: JSONRPCMessage, options?: { relatedRequestId?: RequestId }): Promise<void>;
  start(): Promise<void>;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
}

export abstract class ClientSideRelay implements SessionBackend {
  protected transport: RelayTransport | undefined;
  /** Set once the session was initialized: from then on the other end gets the handshake replayed when it is new. */
  protected initParams: InitializeParams | undefined;
  #chain: Promise<void> = Promise.resolve();

  async connect(transport: RelayTransport): Promise<void> {
    this.transport = transport;
    transport.onmessage = (message) => {
      this.#chain = this.#chain.then(() => this.fromClient(message)).catch(() => {});
    };
    await transport.start();
  }

  async restore(transport: WebStandardStreamableHTTPServerTransport, sessionId: string, params: InitializeParams): Promise<void> {
    restoreInitializedTransport(transport, sessionId);
    this.initParams = params;
  }

  abstract close(): Promise<void>;

  /**
   * A message for the client: on the stream of the request it is about (`relatedRequestId`),
   * else on the standalone stream. When that request's stream is gone, a request or
   * notification goes to the standalone stream instead (`orStandalone`); never throws.
   */
  protected async toClient(message: JSONRPCMessage, relatedRequestId?: RequestId, orStandalone = true): Promise<void> {
    if (!this.transport) return;
    try {
      await this.transport.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId });
    } catch {
      if (orStandalone && relatedRequestId !== undefined) await this.transport.send(message).catch(() => {});
    }
  }

  /** One message of the client's, after every earlier one was handed on. */
  protected abstract fromClient(message: JSONRPCMessage): Promise<void>;
}
