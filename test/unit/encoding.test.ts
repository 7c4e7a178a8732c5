// The one base64 / base64url encoder (packages/runtime/src/encoding.ts) behind session
// ids, tokens, PKCE challenges and CSP hash sources.
import { describe, expect, it } from "vitest";
import { base64, base64url, hex, utf8Length } from "../../packages/runtime/src/encoding";
import { sha256, sha256Hex } from "../../packages/runtime/src/secrets";
import { s256 } from "../../workers/smcp/src/oauth/tokens";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("base64 and base64url", () => {
  it("mcp:session-id-charset — base64 is RFC 4648 §10's test vectors, padded", () => {
    const vectors: [string, string][] = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];
    for (const [input, output] of vectors) expect(base64(ascii(input)), input).toBe(output);
  });

  it("mcp:session-id-charset — base64url swaps + and / for - and _ and drops the padding", () => {
    // 0xfb 0xff 0xbf is "+/+/" in base64: every 6-bit group is 62 or 63.
    expect(base64(new Uint8Array([0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe]))).toBe("++++++++");
    expect(base64url(new Uint8Array([0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe]))).toBe("--------");
    expect(base64url(new Uint8Array([0xff, 0xff, 0xff]))).toBe("____");
    expect(base64url(ascii("f"))).toBe("Zg");
    expect(base64url(ascii("fo"))).toBe("Zm8");
    expect(base64url(new Uint8Array(0))).toBe("");
  });

  it("platform:oauth — the S256 challenge of RFC 7636 appendix B's verifier is the RFC's challenge", async () => {
    const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    expect(await s256(verifier)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    expect(base64url(await sha256(verifier))).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });
});

describe("hex", () => {
  it("platform:observability — two lowercase digits a byte, and SHA-256 of \"abc\" is FIPS 180-2's digest", async () => {
    expect(hex(new Uint8Array([0x00, 0x0f, 0xa0, 0xff]))).toBe("000fa0ff");
    expect(hex(new Uint8Array(0))).toBe("");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("utf8Length", () => {
  it("platform:quotas — counts what TextEncoder writes: ASCII, 2-, 3- and 4-byte characters, and lone surrogates as U+FFFD", () => {
    const strings = ["", "notes", "é", "Ωmega", "€", "日本語のメモ", "😀", "a😀b", "\ud83d", "\ude00", "x\ud83dy", "\ude00\ud83d", "\ud83d\ud83d\ude00", "\u007f\u0080\u07ff\u0800\uffff"];
    for (const s of strings) expect(utf8Length(s), JSON.stringify(s)).toBe(new TextEncoder().encode(s).byteLength);
  });
});
