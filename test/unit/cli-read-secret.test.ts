// `smcp secrets set` reads the value from stdin (packages/cli/src/read-secret.mjs): typed
// on a terminal with echo off, or piped. A terminal is a PassThrough that says it is one.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM
import { readSecret } from "../../packages/cli/src/read-secret.mjs";

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, raw: [] as boolean[], setRawMode(raw: boolean) { input.raw.push(raw); } });
  let shown = "";
  const stderr = { write: (text: string) => (shown += text) };
  return { input, stderr, shown: () => shown };
}

describe("readSecret", () => {
  it("deployed:secrets admin:cli — on a terminal: prompts on stderr, raw mode (no echo) while typing, Backspace edits, Enter ends", async () => {
    const t = terminal();
    const value = readSecret(t.input, t.stderr, "value: ");
    t.input.write("hunter3");
    t.input.write("\u007fX2\r");
    expect(await value).toBe("hunterX2");
    expect(t.input.raw).toEqual([true, false]);
    expect(t.shown()).toBe("value: \n");
  });

  it("deployed:secrets admin:cli — on a terminal, Ctrl+C stops without a value", async () => {
    const t = terminal();
    const value = readSecret(t.input, t.stderr, "value: ");
    t.input.write("abc\u0003");
    await expect(value).rejects.toThrow("stopped; no secret was set");
    expect(t.input.raw).toEqual([true, false]);
  });

  it("deployed:secrets admin:cli — from a pipe: everything, less one trailing newline; empty, oversized and non-UTF-8 input refused", async () => {
    const pipe = (data: string | Buffer) => {
      const input = new PassThrough();
      input.end(data);
      return readSecret(input, { write: () => true }, "unused");
    };
    expect(await pipe("a\nb\n")).toBe("a\nb");
    expect(await pipe("crlf\r\n")).toBe("crlf");
    expect(await pipe("two\n\n")).toBe("two\n");
    await expect(pipe("\n")).rejects.toThrow("the secret is empty");
    await expect(pipe("x".repeat(16 * 1024 + 1))).rejects.toThrow("larger than 16384 bytes");
    expect(await pipe(`${"x".repeat(16 * 1024)}\n`)).toHaveLength(16 * 1024);
    await expect(pipe(Buffer.from([0xff, 0xfe]))).rejects.toThrow("not UTF-8");
  });
});
