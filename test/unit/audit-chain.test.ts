// The audit log's hash chain (packages/runtime/src/audit-chain.ts): exact hashes, and
// every kind of tampering reported at the first entry it breaks.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AUDIT_GENESIS, auditHash, verifyAuditChain, type AuditEntry, type AuditFields } from "../../packages/runtime/src/audit-chain";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function chain(fields: AuditFields[], prev = AUDIT_GENESIS): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for (const f of fields) {
    const hash = await auditHash(prev, f);
    entries.push({ ...f, prevHash: prev, hash });
    prev = hash;
  }
  return entries;
}

const fieldsOf = (seq: number): AuditFields => ({
  seq,
  at: 1_700_000_000_000 + seq,
  actor: "admin",
  action: "key.created",
  target: `key_${seq}`,
  detail: JSON.stringify({ label: `k${seq}` }),
});

describe("auditHash", () => {
  it("admin:audit — is SHA-256 of the JSON array [prevHash, seq, at, actor, action, target, detail]", async () => {
    const f = fieldsOf(1);
    const expected = sha256(JSON.stringify([AUDIT_GENESIS, 1, f.at, "admin", "key.created", "key_1", f.detail]));
    expect(await auditHash(AUDIT_GENESIS, f)).toBe(expected);
    expect(AUDIT_GENESIS).toBe("0".repeat(64));
  });

  it("admin:audit — changes with every field and with the previous hash", async () => {
    const base = fieldsOf(1);
    const h = await auditHash(AUDIT_GENESIS, base);
    const variants: AuditFields[] = [
      { ...base, seq: 2 },
      { ...base, at: base.at + 1 },
      { ...base, actor: "admin2" },
      { ...base, action: "key.revoked" },
      { ...base, target: "key_2" },
      { ...base, detail: "{}" },
    ];
    const hashes = await Promise.all(variants.map((v) => auditHash(AUDIT_GENESIS, v)));
    expect(new Set([h, ...hashes]).size).toBe(7);
    expect(await auditHash("f".repeat(64), base)).not.toBe(h);
  });

  it("admin:audit — cannot be fooled by moving text between fields (JSON framing, not concatenation)", async () => {
    const a = { ...fieldsOf(1), actor: "ab", action: "c" };
    const b = { ...fieldsOf(1), actor: "a", action: "bc" };
    expect(await auditHash(AUDIT_GENESIS, a)).not.toBe(await auditHash(AUDIT_GENESIS, b));
  });
});

describe("verifyAuditChain", () => {
  it("admin:audit — accepts an intact chain and counts its entries", async () => {
    const entries = await chain([1, 2, 3, 4].map(fieldsOf));
    expect(await verifyAuditChain(entries)).toEqual({ ok: true, entries: 4 });
  });

  it("admin:audit — accepts the empty log", async () => {
    expect(await verifyAuditChain([])).toEqual({ ok: true, entries: 0 });
  });

  it("admin:audit — verifies a segment from a given previous hash (a checkpoint), and refuses it from the genesis", async () => {
    const all = await chain([1, 2, 3, 4, 5].map(fieldsOf));
    const tail = all.slice(2);
    expect(await verifyAuditChain(tail, all[1]!.hash)).toEqual({ ok: true, entries: 3 });
    expect(await verifyAuditChain(tail)).toEqual({ ok: false, entries: 3, brokenAt: 3, reason: "prevHash does not match the previous entry" });
  });

  it("admin:audit — reports an edited field at the edited entry", async () => {
    const entries = await chain([1, 2, 3].map(fieldsOf));
    entries[1] = { ...entries[1]!, detail: '{"label":"forged"}' };
    expect(await verifyAuditChain(entries)).toEqual({ ok: false, entries: 3, brokenAt: 2, reason: "hash does not match the entry's fields" });
  });

  it("admin:audit — reports a re-hashed edit at the entry after it (its prevHash no longer matches)", async () => {
    const entries = await chain([1, 2, 3].map(fieldsOf));
    const forged = { ...entries[1]!, actor: "mallory" };
    forged.hash = await auditHash(forged.prevHash, forged);
    entries[1] = forged;
    expect(await verifyAuditChain(entries)).toEqual({ ok: false, entries: 3, brokenAt: 3, reason: "prevHash does not match the previous entry" });
  });

  it("admin:audit — reports a deleted entry as a gap in seq", async () => {
    const entries = await chain([1, 2, 3, 4].map(fieldsOf));
    entries.splice(2, 1);
    expect(await verifyAuditChain(entries)).toEqual({ ok: false, entries: 3, brokenAt: 4, reason: "expected seq 3" });
  });

  it("admin:audit — reports swapped entries at the first one out of order", async () => {
    const entries = await chain([1, 2, 3].map(fieldsOf));
    [entries[1], entries[2]] = [entries[2]!, entries[1]!];
    expect(await verifyAuditChain(entries)).toEqual({ ok: false, entries: 3, brokenAt: 3, reason: "expected seq 2" });
  });

  it("admin:audit — reports a dropped first entry when verified from the genesis", async () => {
    const entries = await chain([1, 2, 3].map(fieldsOf));
    expect(await verifyAuditChain(entries.slice(1))).toMatchObject({ ok: false, brokenAt: 2, reason: "prevHash does not match the previous entry" });
  });
});
