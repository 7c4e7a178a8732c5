/**
 * The copy-paste command lines of the docs, as a reader sees them: every ```sh block of
 * README.md and docs/*.md, split into the lines a person pastes (a `\` continuation is one
 * line), each with the trailing comment that says what it answers. Pure text work, so
 * the runner and the static checks read the same lines.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

export interface DocLine {
  /** Where it is, e.g. `README.md:97`. */
  where: string;
  /** The line as written (continuations kept, so bash reads it exactly as a reader pastes it). */
  text: string;
  /** The trailing comment, without `#`, or "" when there is none. */
  comment: string;
}

export interface DocBlock {
  file: string;
  /** The line of the opening fence, 1-based. */
  line: number;
  lang: string;
  lines: DocLine[];
}

/** The documents whose command lines must work: the README and every page of docs/. */
export function documentsOf(root: string): string[] {
  const docs = readdirSync(path.join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

/** Every fenced block of a markdown file, with its language tag. */
export function blocksOf(root: string, file: string): DocBlock[] {
  const source = readFileSync(path.join(root, file), "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < source.length; i++) {
    const open = /^```(\S*)\s*$/.exec(source[i]!);
    if (!open) continue;
    const start = i;
    const body: { n: number; text: string }[] = [];
    for (i++; i < source.length && !/^```\s*$/.test(source[i]!); i++) body.push({ n: i + 1, text: source[i]! });
    blocks.push({ file, line: start + 1, lang: open[1]!, lines: linesOf(file, body) });
  }
  return blocks;
}

function linesOf(file: string, body: { n: number; text: string }[]): DocLine[] {
  const lines: DocLine[] = [];
  for (let i = 0; i < body.length; i++) {
    const first = body[i]!;
    let text = first.text;
    while (/\\$/.test(text.trimEnd()) && i + 1 < body.length) text += "\n" + body[++i]!.text;
    const trimmed = text.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    lines.push({ where: `${file}:${first.n}`, text: text.trimEnd(), comment: trailingComment(text) });
  }
  return lines;
}

/** The comment bash would see at the end of the line: a `#` starting a word outside quotes. */
export function trailingComment(text: string): string {
  const at = commentStart(text);
  return at < 0 ? "" : text.slice(at + 1).trim();
}

function commentStart(text: string): number {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === "\\") i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) return i;
  }
  return -1;
}

/** The line without its trailing comment. */
export function commandOf(line: DocLine): string {
  const at = commentStart(line.text);
  return at < 0 ? line.text : line.text.slice(0, at).trimEnd();
}

/** What a trailing comment promises: an HTTP status first, then a JSON shape (see shape.ts). */
export function expectationOf(comment: string): { status?: number; shape?: string } {
  const m = /^(\d{3})\b/.exec(comment);
  const status = m ? Number(m[1]) : undefined;
  const rest = m ? comment.slice(3).trim() : comment;
  const shape = rest.startsWith("{") || rest.startsWith("[") ? balanced(rest) : undefined;
  return { ...(status !== undefined ? { status } : {}), ...(shape ? { shape } : {}) };
}

/** The bracketed group at the start of `text` (strings respected). */
function balanced(text: string): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return text.slice(0, i + 1);
    }
  }
  return undefined;
}
