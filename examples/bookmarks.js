// A tenant server for SMCP that keeps state and calls one upstream: bookmarks whose
// titles are fetched from the page itself. It uses its own storage (ctx.store, scoped
// to this tenant and server by the platform) and ctx.fetch, which reaches only the
// hosts on the server's egress allow-list (PUT .../servers/bookmarks/egress).

const COLLECTION = "bookmarks";

async function titleOf(ctx, url) {
  const response = await ctx.fetch(url, { headers: { accept: "text/html" } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const html = (await response.text()).slice(0, 100_000);
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  return match ? match[1].trim() : url;
}

export default {
  tools: [
    {
      name: "save_bookmark",
      description: "Save a URL with an optional note; the page title is fetched from the page.",
      inputSchema: {
        type: "object",
        properties: { url: { type: "string", format: "uri" }, note: { type: "string", maxLength: 1000 } },
        required: ["url"],
      },
      async handler({ url, note }, ctx) {
        const title = await titleOf(ctx, url);
        const id = crypto.randomUUID();
        await ctx.store.put(COLLECTION, id, { url, title, note: note ?? "" });
        ctx.log("info", `saved ${url}`);
        return { content: [{ type: "text", text: `Saved "${title}" as ${id}` }], structuredContent: { id, title } };
      },
    },
    {
      name: "list_bookmarks",
      description: "List saved bookmarks.",
      inputSchema: { type: "object", properties: { limit: { type: "integer", minimum: 1, maximum: 500 } } },
      async handler({ limit }, ctx) {
        const records = await ctx.store.list(COLLECTION, { limit: limit ?? 100 });
        return { bookmarks: records.map((r) => ({ id: r.id, ...r.value })) };
      },
    },
    {
      name: "search_bookmarks",
      description: "Find bookmarks whose URL, title or note contains the text.",
      inputSchema: { type: "object", properties: { text: { type: "string", minLength: 1 } }, required: ["text"] },
      async handler({ text }, ctx) {
        const records = await ctx.store.search(COLLECTION, text);
        return { bookmarks: records.map((r) => ({ id: r.id, ...r.value })) };
      },
    },
    {
      name: "delete_bookmark",
      description: "Delete a bookmark by id.",
      inputSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      async handler({ id }, ctx) {
        const deleted = await ctx.store.delete(COLLECTION, id);
        return deleted ? `Deleted ${id}` : { content: [{ type: "text", text: `No bookmark ${id}` }], isError: true };
      },
    },
  ],
};
