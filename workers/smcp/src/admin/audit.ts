/**
 * `/admin/v1/tenants/{t}/audit`: the tenant's hash-chained, append-only audit log, its
 * verification, and its retention (checkpoints, export of the segment before a
 * checkpoint, drop of an exported segment; rules in tenant/audit-retention.ts).
 *
 * The export is streamed page by page from the tenant object, so a long segment is
 * never held in memory; its `detail` fields stay the exact JSON text the hashes cover,
 * so the file verifies offline (`smcp audit verify-file`).
 */
import { jsonResponse, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { nextCursor, readPage } from "./paging";
import { unknownTenant } from "./tenants";

/** Rows per RPC page of an export. */
const EXPORT_PAGE_ROWS = 500;

export async function getAudit(request: Request, env: Env, tenant: string): Promise<Response> {
  const { after, limit } = readPage(request);
  const result = await tenantStub(env, tenant).auditPage(after, limit);
  if (!result.ok) throw unknownTenant(tenant);
  // `detail` is stored as the exact JSON text the hash covers; decode it for readers.
  const entries = result.entries.map((e) => ({ ...e, detail: JSON.parse(e.detail) }));
  return jsonResponse({ entries, next: nextCursor(result.entries, limit) });
}

export async function verifyAudit(request: Request, env: Env, tenant: string): Promise<Response> {
  const from = new URL(request.url).searchParams.get("from") ?? "checkpoint";
  if (from !== "checkpoint" && from !== "start") throw wire.badRequest("invalid_query", "from must be checkpoint or start");
  const result = await tenantStub(env, tenant).verifyAudit(from);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse(result.verdict);
}

export async function listCheckpoints(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).auditCheckpoints();
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ checkpoints: result.checkpoints, retention: result.retention });
}

export async function createCheckpoint(env: Env, tenant: string): Promise<Response> {
  const result = await tenantStub(env, tenant).auditCheckpoint();
  if (!result.ok) {
    if (result.reason === "unknown-tenant") throw unknownTenant(tenant);
    throw wire.conflict(
      "audit_chain_broken",
      `The audit chain of ${tenant} is broken at entry ${result.verdict.brokenAt} (${result.verdict.reason}); no checkpoint was recorded`,
    );
  }
  return jsonResponse({ checkpoint: result.checkpoint }, 201);
}

export async function exportAudit(request: Request, env: Env, tenant: string): Promise<Response> {
  const through = readThrough(request);
  const stub = tenantStub(env, tenant);
  let page = await stub.auditExportPage(through, 0, EXPORT_PAGE_ROWS);
  if (!page.ok) throw refusal(tenant, page.reason, through);
  const encoder = new TextEncoder();
  let first = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const { segment } = page as Extract<typeof page, { ok: true }>;
      controller.enqueue(encoder.encode(`{"tenant":${JSON.stringify(tenant)},"segment":${JSON.stringify(segment)},"entries":[`));
    },
    async pull(controller) {
      const current = page as Extract<typeof page, { ok: true }>;
      for (const entry of current.entries) {
        controller.enqueue(encoder.encode(`${first ? "" : ","}\n${JSON.stringify(entry)}`));
        first = false;
      }
      if (current.done) {
        controller.enqueue(encoder.encode("\n]}\n"));
        controller.close();
        return;
      }
      const last = current.entries.at(-1);
      const next = last ? await stub.auditExportPage(through, last.seq, EXPORT_PAGE_ROWS) : undefined;
      // A truncated body does not parse, so a reader never mistakes it for a whole segment.
      if (!next?.ok) return controller.error(new Error("the audit segment changed during the export"));
      page = next;
    },
  });
  return new Response(body, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

export async function dropAudit(request: Request, env: Env, tenant: string): Promise<Response> {
  const through = readThrough(request);
  const result = await tenantStub(env, tenant).auditDrop(through);
  if (!result.ok) throw refusal(tenant, result.reason, through);
  return jsonResponse({ dropped: result.dropped, through: result.through });
}

function readThrough(request: Request): number {
  const raw = new URL(request.url).searchParams.get("through");
  const through = Number(raw);
  if (raw === null || !Number.isSafeInteger(through) || through < 1) {
    throw wire.badRequest("invalid_query", "through must be the seq of an audit checkpoint (an integer >= 1)");
  }
  return through;
}

function refusal(tenant: string, reason: "unknown-tenant" | "not-a-checkpoint" | "already-dropped" | "not-exported", through: number) {
  switch (reason) {
    case "unknown-tenant":
      return unknownTenant(tenant);
    case "not-a-checkpoint":
      return wire.conflict("audit_not_a_checkpoint", `Entry ${through} is not an audit checkpoint; a segment must end at one (POST .../audit/checkpoints)`);
    case "already-dropped":
      return wire.conflict("audit_already_dropped", `The audit log of ${tenant} has already been dropped through ${through} or beyond`);
    case "not-exported":
      return wire.conflict("audit_not_exported", `The audit segment through ${through} has not been exported; export it first (GET .../audit/export?through=${through})`);
  }
}
