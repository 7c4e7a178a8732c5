/** `?after=&limit=` paging of the admin API's logs: `after` is a sequence number, `next` the cursor for the following page. */
import { wire } from "@smcp/runtime";

export function readPage(request: Request, defaultLimit = 100): { after: number; limit: number } {
  const url = new URL(request.url);
  const after = Number(url.searchParams.get("after") ?? 0);
  const limit = Number(url.searchParams.get("limit") ?? defaultLimit);
  if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw wire.badRequest("invalid_query", "after must be an integer >= 0 and limit an integer in 1..1000");
  }
  return { after, limit };
}

/** The cursor of the next page, or null when this page was the last. */
export function nextCursor(rows: { seq: number }[], limit: number): number | null {
  return rows.length === limit ? rows[rows.length - 1]!.seq : null;
}
