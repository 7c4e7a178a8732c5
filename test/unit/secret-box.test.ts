// Sealing and opening deployed servers' secrets (packages/runtime/src/secret-box.ts) and
// redacting them from kept console output (packages/runtime/src/redact.ts).
import { createDecipheriv, createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { redactSecrets } from "../../packages/runtime/src/redact";
import { decodeBase64, loadKeyring, openSecret, sealSecret, secretBinding, secretKeyId } from "../../packages/runtime/src/secret-box";

const KEY = randomBytes(32);
const OLD = randomBytes(32);

async function ring(current: Buffer | string, previous?: Buffer | string) {
  const text = (k: Buffer | string | undefined) => (k === undefined || typeof k === "string" ? k : k.toString("base64"));
  const result = await loadKeyring(text(current), text(previous));
  if (!result.ok) throw new Error(result.detail);
  return result.keyring;
}

describe("loadKeyring", () => {
  it("deployed:secrets platform:config — takes 32 bytes as base64 or base64url, with or without padding; the id is the key's SHA-256 prefix", async () => {
    const id = createHash("sha256").update(KEY).digest("hex").slice(0, 16);
    for (const text of [KEY.toString("base64"), KEY.toString("base64url"), ` ${KEY.toString("base64")}\n`]) {
      expect((await ring(text)).current.id).toBe(id);
    }
    expect(await secretKeyId(KEY)).toBe(id);
  });

  it("deployed:secrets platform:config — missing, empty and malformed keys are refused by name, without echoing the value", async () => {
    expect(await loadKeyring(undefined, undefined)).toMatchObject({ ok: false, reason: "missing", variable: "SMCP_SECRETS_KEY" });
    expect(await loadKeyring("  ", undefined)).toMatchObject({ ok: false, reason: "missing" });
    for (const bad of ["not base64!", randomBytes(16).toString("base64"), randomBytes(33).toString("base64"), "abcde"]) {
      const result = await loadKeyring(bad, undefined);
      expect(result).toMatchObject({ ok: false, reason: "invalid", variable: "SMCP_SECRETS_KEY" });
      expect(result.ok ? "" : result.detail).not.toContain(bad);
    }
    expect(await loadKeyring(KEY.toString("base64"), "short")).toMatchObject({ ok: false, reason: "invalid", variable: "SMCP_SECRETS_KEY_PREVIOUS" });
    // The same key given twice is one key.
    expect((await ring(KEY, KEY)).previous).toBeNull();
  });
});

describe("sealSecret / openSecret", () => {
  const binding = secretBinding("acme", "api", "API_TOKEN");

  it("deployed:secrets — AES-256-GCM with a fresh 12-byte IV; Node's own AES-GCM opens it with the binding as additional data", async () => {
    const keyring = await ring(KEY);
    const a = await sealSecret(keyring, binding, "s3cret ü 🦀");
    const b = await sealSecret(keyring, binding, "s3cret ü 🦀");
    expect(a.iv).not.toBe(b.iv);
    expect(a.keyId).toBe(keyring.current.id);
    const bytes = Buffer.from(decodeBase64(a.ciphertext)!);
    const decipher = createDecipheriv("aes-256-gcm", KEY, Buffer.from(decodeBase64(a.iv)!));
    decipher.setAAD(Buffer.from(binding));
    decipher.setAuthTag(bytes.subarray(-16));
    expect(Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]).toString("utf8")).toBe("s3cret ü 🦀");
    expect(await openSecret(keyring, binding, a)).toEqual({ ok: true, value: "s3cret ü 🦀", stale: false });
  });

  it("deployed:secrets — a value sealed under the previous key opens and is marked stale; under neither key it is unknown-key", async () => {
    const before = await ring(OLD);
    const sealed = await sealSecret(before, binding, "v");
    expect(await openSecret(await ring(KEY, OLD), binding, sealed)).toEqual({ ok: true, value: "v", stale: true });
    expect(await openSecret(await ring(KEY), binding, sealed)).toEqual({ ok: false, reason: "unknown-key" });
  });

  it("deployed:secrets isolation:tenants — a value moved to another name, server or tenant, or altered, does not open", async () => {
    const keyring = await ring(KEY);
    const sealed = await sealSecret(keyring, binding, "v");
    for (const other of [secretBinding("acme", "api", "OTHER"), secretBinding("acme", "web", "API_TOKEN"), secretBinding("evil", "api", "API_TOKEN")]) {
      expect(await openSecret(keyring, other, sealed)).toEqual({ ok: false, reason: "corrupt" });
    }
    const bytes = decodeBase64(sealed.ciphertext)!;
    bytes[0] ^= 1;
    expect(await openSecret(keyring, binding, { ...sealed, ciphertext: Buffer.from(bytes).toString("base64") })).toEqual({ ok: false, reason: "corrupt" });
    expect(await openSecret(keyring, binding, { ...sealed, iv: "AAAA" })).toEqual({ ok: false, reason: "corrupt" });
  });
});

describe("redactSecrets", () => {
  const secrets = [
    { name: "TOKEN", value: "tok_abcdef123" },
    { name: "QUOTED", value: 'a"b\\c-long' },
  ];

  it("deployed:secrets — replaces every value, its JSON-escaped form, and a tail cut in the middle of one", () => {
    expect(redactSecrets("token tok_abcdef123 and tok_abcdef123", secrets)).toBe("token [secret TOKEN] and [secret TOKEN]");
    expect(redactSecrets(JSON.stringify({ q: 'a"b\\c-long' }), secrets)).toBe('{"q":"[secret QUOTED]"}');
    expect(redactSecrets("cut at the limit: tok_abc", secrets)).toBe("cut at the limit: [secret TOKEN]");
    expect(redactSecrets("nothing here: tok", secrets)).toBe("nothing here: tok");
    expect(redactSecrets("unchanged", [])).toBe("unchanged");
  });

  it("deployed:secrets — the longer of two overlapping values is redacted whole", () => {
    expect(redactSecrets("xx abcdefgh yy", [{ name: "SHORT", value: "abcd" }, { name: "LONG", value: "abcdefgh" }])).toBe("xx [secret LONG] yy");
  });
});
