/**
 * `notes`: tenant-scoped notes (SPEC section 7).
 *
 * Every note lives in the tenant's Durable Object through `ctx.store`, so all
 * sessions of one tenant share them and no other tenant can see them. Notes are also
 * exposed as resources (`note://{id}`), listed from the same store.
 *
 * Ids are UUIDv7, so the store's id order is creation order: `list_notes` pages oldest
 * first with the last id of a page as the cursor of the next.
 */
import { McpServer, ResourceNotFoundError, ResourceTemplate } from "@modelcontextprotocol/server";
import { z } from "zod";
import { convertedOnce } from "./json-schema-once";
import { timeOrderedId } from "./time-ordered-id";
import type { ServerContext, ServerModule, StoredRecord } from "./types";

const COLLECTION = "notes";

interface Note {
  title: string;
  body: string;
}

const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });

/**
 * Built once per isolate, not per `create()`: the stateless lane builds a server for every
 * request, and building zod schemas was most of that cost. Schemas are immutable, so every
 * server can share them, and their JSON Schema too (json-schema-once.ts).
 */
const ADD_INPUT = convertedOnce(z.object({ title: z.string().min(1).max(200), body: z.string().max(100_000) }));
const ADD_OUTPUT = convertedOnce(z.object({ id: z.string() }));
const LIST_INPUT = convertedOnce(z.object({ limit: z.number().int().min(1).max(500).optional(), cursor: z.string().min(1).max(100).optional() }));
const SEARCH_INPUT = convertedOnce(z.object({ query: z.string().min(1).max(200), limit: z.number().int().min(1).max(500).optional() }));
const DELETE_INPUT = convertedOnce(z.object({ id: z.string().min(1).max(100) }));

const asNote = (record: StoredRecord) => ({ id: record.id, ...(record.value as Note), updatedAt: record.updatedAt });

export const notes: ServerModule = {
  name: "notes",
  title: "Notes",
  version: "1.0.0",
  // A search can be long on a large tenant: a client that declares the Tasks extension gets it as a task.
  taskTools: { search_notes: { support: "optional" } },
  create(ctx: ServerContext): McpServer {
    const server = new McpServer({ name: "smcp-notes", title: "Notes", version: "1.0.0" });
    const { store } = ctx;

    server.registerTool(
      "add_note",
      {
        title: "Add note",
        description: "Store a note for this tenant and return its id.",
        inputSchema: ADD_INPUT,
        outputSchema: ADD_OUTPUT,
      },
      async ({ title, body }) => {
        const id = timeOrderedId();
        await store.put(COLLECTION, id, { title, body } satisfies Note);
        return { ...text(`Added note ${id}`), structuredContent: { id } };
      },
    );

    server.registerTool(
      "list_notes",
      {
        title: "List notes",
        description:
          "List this tenant's notes, oldest first, a page at a time. Pass the nextCursor of a page as cursor to get the next; no nextCursor means the last page.",
        inputSchema: LIST_INPUT,
      },
      async ({ limit, cursor }) => {
        const pageSize = limit ?? 100;
        // One record more than asked tells whether another page follows.
        const records = await store.list(COLLECTION, { limit: pageSize + 1, after: cursor });
        const found = records.slice(0, pageSize).map(asNote);
        const nextCursor = records.length > pageSize ? found[found.length - 1]!.id : undefined;
        const page = { notes: found, ...(nextCursor ? { nextCursor } : {}) };
        return { ...text(JSON.stringify(page)), structuredContent: page };
      },
    );

    server.registerTool(
      "search_notes",
      {
        title: "Search notes",
        description: "Find notes whose title or body contains the query (case-insensitive).",
        inputSchema: SEARCH_INPUT,
      },
      async ({ query, limit }) => {
        const found = (await store.search(COLLECTION, query, { limit: limit ?? 50 })).map(asNote);
        return { ...text(JSON.stringify(found)), structuredContent: { notes: found } };
      },
    );

    server.registerTool(
      "delete_note",
      {
        title: "Delete note",
        description: "Delete one note by id.",
        inputSchema: DELETE_INPUT,
      },
      async ({ id }) => {
        const deleted = await store.delete(COLLECTION, id);
        if (!deleted) return { ...text(`No note ${id}`), isError: true };
        return text(`Deleted note ${id}`);
      },
    );

    server.registerResource(
      "note",
      new ResourceTemplate("note://{id}", {
        list: async () => ({
          resources: (await store.list(COLLECTION, { limit: 500 })).map((r) => ({
            uri: `note://${r.id}`,
            name: (r.value as Note).title,
            mimeType: "text/markdown",
          })),
        }),
      }),
      { title: "Note", description: "One note of this tenant", mimeType: "text/markdown" },
      async (uri, { id }) => {
        const record = await store.get(COLLECTION, String(id));
        if (!record) throw new ResourceNotFoundError(uri.href, `No note ${String(id)}: list them with resources/list or list_notes`);
        const note = record.value as Note;
        return { contents: [{ uri: uri.href, mimeType: "text/markdown", text: `# ${note.title}\n\n${note.body}` }] };
      },
    );

    return server;
  },
};
