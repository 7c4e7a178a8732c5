// The CLI's offline check of an audit export agrees with the platform's chain (packages/runtime).
import { describe, expect, it } from "vitest";
import { AUDIT_GENESIS, auditHash, type AuditEntry } from "../../packages/runtime/src/audit-chain";
// @ts-expect-error plain ESM without types
import { verifyExport } from "../../packages/cli/src/audit-chain.mjs";

async function segment(from: number, count: number, prevHash: string) {
  const entries: AuditEntry[] = [];
  let prev = prevHash;
  for (let seq = from; seq < from + count; seq++) {
    const fields = { seq, at: 1_000 + seq, actor: "admin", action: "key.created", target: `key_${seq}`, detail: JSON.stringify({ label: `k${seq}` }) };
    const hash = await auditHash(prev, fields);
    entries.push({ ...fields, prevHash: prev, hash });
    prev = hash;
  }
  return { tenant: "acme", segment: { from, through: from + count - 1, prevHash, checkpoint: { seq: from + count - 1, hash: prev } }, entries };
}

describe("audit export, offline", () => {
  it("platform:audit-retention — an export verifies from its anchor to its checkpoint; any edit, gap or cut is found", async () => {
    const data = await segment(11, 5, "a".repeat(64));
    expect(verifyExport(data)).toEqual({ ok: true, entries: 5 });
    expect(verifyExport(await segment(1, 3, AUDIT_GENESIS))).toEqual({ ok: true, entries: 3 });

    const edited = structuredClone(data);
    edited.entries[2].detail = JSON.stringify({ label: "forged" });
    expect(verifyExport(edited)).toMatchObject({ ok: false, brokenAt: 13 });
    const gap = structuredClone(data);
    gap.entries.splice(1, 1);
    expect(verifyExport(gap)).toMatchObject({ ok: false, brokenAt: 13 });
    const cut = structuredClone(data);
    cut.entries.pop();
    expect(verifyExport(cut)).toMatchObject({ ok: false });
    const otherAnchor = structuredClone(data);
    otherAnchor.segment.prevHash = "b".repeat(64);
    expect(verifyExport(otherAnchor)).toMatchObject({ ok: false, brokenAt: 11 });
  });
});
