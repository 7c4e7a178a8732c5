/**
 * The platform as the client of an instance, where no MCP client is on the other end:
 * a deploy's health check and the stateless lane's per-request instances. It performs
 * the handshake and makes requests one by one; a request the server makes of the
 * client gets an error that says why no client can answer it here.
 */
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResponse, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/server";
import { LATEST_SESSION_REVISION } from "@smcp/runtime";
import { SandboxInstance, type InstanceEvents } from "./instance";

export class InstanceCallError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = "InstanceCallError";
  }
}

export interface InstanceClientOptions {
  start(events: InstanceEvents): Promise<SandboxInstance>;
  timeoutMs: number;
  /** What a request of the server's is told: why nobody can answer it. */
  noClient: string;
  console?(level: string, line: string): void;
}

export class InstanceClient {
  #instance!: SandboxInstance;
  #waiting = new Map<RequestId, { resolve(m: JSONRPCMessage): void; reject(e: Error): void }>();
  #seq = 0;
  #ended: string | undefined;
  readonly #opts: InstanceClientOptions;

  private constructor(opts: InstanceClientOptions) {
    this.#opts = opts;
  }

  /** Starts an instance and performs the handshake; answers the instance's `initialize` result. */
  static async open(opts: InstanceClientOptions, clientInfo = { name: "smcp", version: "1" }): Promise<{ client: InstanceClient; initialize: Record<string, unknown> }> {
    const client = await InstanceClient.#start(opts);
    return { client, initialize: await client.#handshake(clientInfo) };
  }

  static async #start(opts: InstanceClientOptions): Promise<InstanceClient> {
    const client = new InstanceClient(opts);
    client.#instance = await opts.start({
      message: (m) => client.#onMessage(m),
      console: (level, line) => opts.console?.(level, line),
      ended: (reason) => client.#onEnded(reason),
    });
    return client;
  }

  async #handshake(clientInfo: { name: string; version: string }): Promise<Record<string, unknown>> {
    try {
      const initialize = await this.request("initialize", { protocolVersion: LATEST_SESSION_REVISION, capabilities: {}, clientInfo });
      this.#instance.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      return initialize;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Starts an instance for one round of a task: on `revision` (2026-07-28 era, no
   * handshake) when the harness could bind the server to it, else with the 2025 handshake
   * as `open` does. `modern` says which.
   */
  static async openForRound(opts: InstanceClientOptions, revision: string): Promise<{ client: InstanceClient; modern: boolean }> {
    const client = await InstanceClient.#start(opts);
    if (client.#instance.servedRevision === revision) return { client, modern: true };
    await client.#handshake({ name: "smcp", version: "1" });
    return { client, modern: false };
  }

  request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.#ended) return Promise.reject(new InstanceCallError(`the server's instance ended: ${this.#ended}`));
    const id = `smcp-${++this.#seq}`;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new InstanceCallError(`did not answer ${method} within ${this.#opts.timeoutMs / 1000} s`));
      }, this.#opts.timeoutMs);
      this.#waiting.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          if (isJSONRPCErrorResponse(m)) reject(new InstanceCallError(m.error.message, m.error.code));
          else resolve((m as { result: Record<string, unknown> }).result);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#instance.send({ jsonrpc: "2.0", id, method, params });
    });
  }

  close(): void {
    this.#instance?.close();
  }

  #onMessage(message: JSONRPCMessage): void {
    if (isJSONRPCResponse(message) || isJSONRPCErrorResponse(message)) {
      const waiting = this.#waiting.get(message.id as RequestId);
      this.#waiting.delete(message.id as RequestId);
      waiting?.resolve(message);
    } else if (isJSONRPCRequest(message)) {
      this.#instance.send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: this.#opts.noClient } });
    }
  }

  #onEnded(reason: string): void {
    this.#ended = reason;
    for (const w of this.#waiting.values()) w.reject(new InstanceCallError(`the server's instance ended: ${reason}`));
    this.#waiting.clear();
  }
}
