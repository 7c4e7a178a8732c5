// How the docs' command lines are read and their answers judged (test/e2e/doc-commands/):
// the trailing comment a line promises, and the JSON shapes in it.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { blocksOf, commandOf, expectationOf, trailingComment } from "../e2e/doc-commands/extract";
import { mismatch, parseShape } from "../e2e/doc-commands/shape";

describe("doc command lines", () => {
  it("platform:doc-commands — a trailing comment is a # that starts a word outside quotes", () => {
    expect(trailingComment(`curl -s $B/x -d '{"a":"#1 # not"}'   # 201 {"a":…}`)).toBe(`201 {"a":…}`);
    expect(trailingComment(`echo "a # b" x#y`)).toBe("");
    expect(trailingComment(`echo \\# done # yes`)).toBe("yes");
  });

  it("platform:doc-commands — a block's lines: continuations joined, comment-only and blank lines left out", () => {
    const root = mkdtempSync(path.join(tmpdir(), "doc-lines-"));
    mkdirSync(path.join(root, "docs"));
    writeFileSync(
      path.join(root, "README.md"),
      ["text", "```sh", "# a note", "A=1; B=2", "", "curl -s $B \\", "     -H x   # 200 {}", "```", "```", "plain", "```"].join("\n"),
    );
    const [sh, plain] = blocksOf(root, "README.md");
    expect(sh).toMatchObject({ lang: "sh", line: 2 });
    expect(sh!.lines.map((l) => [l.where, commandOf(l), l.comment])).toEqual([
      ["README.md:4", "A=1; B=2", ""],
      ["README.md:6", "curl -s $B \\\n     -H x", "200 {}"],
    ]);
    expect(plain).toMatchObject({ lang: "", lines: [{ text: "plain" }] });
  });

  it("platform:doc-commands — what a comment promises: a status first, then a JSON shape; prose promises nothing", () => {
    expect(expectationOf(`201 {"id":"key_…","key":"smcp_sk_…",…}: the key is shown only here`)).toEqual({ status: 201, shape: `{"id":"key_…","key":"smcp_sk_…",…}` });
    expect(expectationOf(`{"ok":true,"entries":…,…} since the last checkpoint`)).toEqual({ shape: `{"ok":true,"entries":…,…}` });
    expect(expectationOf("201 tenant")).toEqual({ status: 201 });
    expect(expectationOf("enable a server")).toEqual({});
    expect(expectationOf("drop that segment (409 otherwise)")).toEqual({});
  });

  it("platform:doc-commands — a shape: keys shown must be there, literals equal, … any value, more keys, or any text in a string", () => {
    const key = parseShape(`{"id":"key_…","key":"smcp_sk_…",…}`);
    expect(mismatch(key, { id: "key_1", key: "smcp_sk_2", label: "x" })).toBeNull();
    expect(mismatch(key, { id: "key_1" })).toBe("$.key is missing");
    expect(mismatch(key, { id: "kx", key: "smcp_sk_2" })).toBe(`$.id is "kx", not key_…`);
    const health = parseShape(`{"ok":true,"version":…}`);
    expect(mismatch(health, { ok: true, version: "0.1.0" })).toBeNull();
    expect(mismatch(health, { ok: false, version: "0.1.0" })).toBe("$.ok is false, not true");
    expect(mismatch(health, { ok: true })).toBe("$.version is missing");
    const tools = parseShape(`{"tools":[{"name":"add_note",…},…]}`);
    expect(mismatch(tools, { tools: [{ name: "add_note", inputSchema: {} }, { name: "list_notes" }] })).toBeNull();
    expect(mismatch(tools, { tools: [] })).toBe("$.tools[0] is not an object");
    expect(mismatch(parseShape(`{"events":[…],…}`), { events: [] })).toBeNull();
    expect(mismatch(parseShape(`{"events":[…],…}`), { events: {} })).toBe("$.events is not an array");
    expect(() => parseShape("{id, key}")).toThrow("not a JSON shape: {id, key}");
  });
});
