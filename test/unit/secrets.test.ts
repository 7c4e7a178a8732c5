// Hashing and comparing secrets, and reading a bearer (packages/runtime/src/secrets.ts).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bearerToken, secretsEqual, sha256Hex } from "../../packages/runtime/src/secrets";

describe("sha256Hex", () => {
  it("auth:keys-hashed — is the lowercase hex SHA-256 of the UTF-8 text", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("🦀 ü")).toBe(createHash("sha256").update("🦀 ü", "utf8").digest("hex"));
  });
});

describe("secretsEqual", () => {
  it("auth:keys-hashed — is true only for identical strings", async () => {
    expect(await secretsEqual("smcp_admin_x", "smcp_admin_x")).toBe(true);
    expect(await secretsEqual("", "")).toBe(true);
    for (const [a, b] of [["a", "b"], ["abc", "abcd"], ["abc", "ABC"], ["", "x"], ["abc", "abc "]]) {
      expect(await secretsEqual(a!, b!), `${a} vs ${b}`).toBe(false);
    }
  });
});

describe("bearerToken", () => {
  it("auth:keys-hashed — takes the token of `Bearer <token>`, scheme case-insensitive, surrounding space allowed", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("BEARER   abc  ")).toBe("abc");
    expect(bearerToken("Bearer\tabc")).toBe("abc");
  });

  it("auth:keys-hashed — is null for any other header", () => {
    for (const header of [null, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "abc", " Bearer abc", "Bearerabc", "Token abc"]) {
      expect(bearerToken(header), JSON.stringify(header)).toBeNull();
    }
  });
});
