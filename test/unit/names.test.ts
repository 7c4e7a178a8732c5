// Names that appear in URLs and object names (packages/runtime/src/names.ts).
import { describe, expect, it } from "vitest";
import { isValidSegment, isWellFormedSessionId, newSessionId, randomToken, sessionObjectName, shownText } from "../../packages/runtime/src/names";

describe("isValidSegment", () => {
  it("routes:names session:create — accepts lowercase letters, digits and inner hyphens, 1 to 63 characters", () => {
    for (const name of ["a", "0", "acme", "acme-2", "a-", "9lives", "a".repeat(63), "x-".repeat(31) + "x"]) {
      expect(isValidSegment(name), name).toBe(true);
    }
  });

  it("routes:names session:create — refuses everything else, non-strings included", () => {
    const refused: unknown[] = [
      "",
      "-acme",
      "Acme",
      "ácme",
      "a_b",
      "a.b",
      "a b",
      "a/b",
      "a\u0000b",
      "..",
      "a".repeat(64),
      "acme\n",
      "\u202eevil",
      null,
      undefined,
      42,
      ["acme"],
      { toString: () => "acme" },
    ];
    for (const name of refused) expect(isValidSegment(name), JSON.stringify(name)).toBe(false);
  });
});

describe("session ids", () => {
  it("routes:names session:create — are 32 base64url characters (192 bits), fresh every time", () => {
    const ids = Array.from({ length: 200 }, newSessionId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(ids).size).toBe(200);
    expect(ids.every(isWellFormedSessionId)).toBe(true);
  });

  it("routes:names session:create — only 32 base64url characters are well-formed", () => {
    expect(isWellFormedSessionId("A".repeat(32))).toBe(true);
    expect(isWellFormedSessionId("-_".repeat(16))).toBe(true);
    for (const id of [null, "", "A".repeat(31), "A".repeat(33), "A".repeat(31) + "=", "A".repeat(31) + "+", "A".repeat(31) + "/", " " + "A".repeat(31)]) {
      expect(isWellFormedSessionId(id), String(id)).toBe(false);
    }
  });
});

describe("randomToken", () => {
  it("routes:names session:create — is unpadded base64url of n bytes", () => {
    expect(randomToken(24)).toHaveLength(32);
    expect(randomToken(32)).toHaveLength(43);
    expect(randomToken(1)).toHaveLength(2);
    expect(randomToken(0)).toBe("");
    for (let i = 0; i < 100; i++) expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("sessionObjectName", () => {
  it("routes:names session:create — binds the id to its tenant and server", () => {
    expect(sessionObjectName("acme", "", "notes", "A".repeat(32))).toBe(`session:acme/notes/${"A".repeat(32)}`);
    expect(sessionObjectName("acme", "", "notes", "x")).not.toBe(sessionObjectName("acme", "", "other", "x"));
    expect(sessionObjectName("acme", "", "notes", "x")).not.toBe(sessionObjectName("globex", "", "notes", "x"));
  });
});

describe("shownText", () => {
  it("platform:client-bounds — a stranger's text is cut to its bound with an ellipsis, and left alone within it", () => {
    expect(shownText("a".repeat(200))).toBe("a".repeat(200));
    expect(shownText("a".repeat(201))).toBe(`${"a".repeat(200)}…`);
    expect(shownText("abcdef", 3)).toBe("abc…");
  });
});
