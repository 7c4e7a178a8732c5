/**
 * `ToolDataStore` over RPC to the tenant's Durable Object, fixed to one server.
 * Server modules get this object and nothing else of the platform: the tenant and
 * server are bound here, not passed by the module, so a module cannot name another.
 * So is the tenant's incarnation: a store made for a tenant since deleted and created
 * again under the same id reaches nothing of the new one.
 */
import type { StoredRecord, ToolDataStore } from "@smcp/servers";
import type { TenantDO } from "./tenant-do";

/** A write the tenant's quota refused: the caller's problem, said in its message. */
export class ToolDataRefusal extends Error {
  override name = "ToolDataRefusal";
}

export class TenantToolStore implements ToolDataStore {
  readonly #tenant: DurableObjectStub<TenantDO>;
  readonly #server: string;
  readonly #incarnation: string;

  constructor(tenant: DurableObjectStub<TenantDO>, server: string, incarnation: string) {
    this.#tenant = tenant;
    this.#server = server;
    this.#incarnation = incarnation;
  }

  async put(collection: string, id: string, value: unknown): Promise<void> {
    const result = await this.#tenant.dataPut(this.#server, collection, id, JSON.stringify(value), this.#incarnation);
    if (!result.ok) {
      throw new ToolDataRefusal(
        result.reason === "quota"
          ? `Tool-data quota exceeded: this tenant may store ${result.limit} bytes and holds ${result.used}; nothing was written`
          : result.reason === "rows"
            ? `Tool-data row limit reached: this tenant may store ${result.limit} records and holds ${result.used}; nothing was written`
            : "Unknown tenant",
      );
    }
  }

  async get(collection: string, id: string): Promise<StoredRecord | null> {
    return (await this.#tenant.dataGet(this.#server, collection, id, this.#incarnation)) as StoredRecord | null;
  }

  async list(collection: string, options: { limit?: number; after?: string } = {}): Promise<StoredRecord[]> {
    return (await this.#tenant.dataList(this.#server, collection, options.limit ?? 100, options.after ?? "", this.#incarnation)) as StoredRecord[];
  }

  async search(collection: string, text: string, options: { limit?: number } = {}): Promise<StoredRecord[]> {
    return (await this.#tenant.dataSearch(this.#server, collection, text, options.limit ?? 50, this.#incarnation)) as StoredRecord[];
  }

  async delete(collection: string, id: string): Promise<boolean> {
    return this.#tenant.dataDelete(this.#server, collection, id, this.#incarnation);
  }
}
