// The CLI's command-line parser (packages/cli/src/args.mjs), against the real command
// table: usage lines as grammars, positionals, typed options, and every usage error.
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { grammarOf, parseCommandLine } from "../../packages/cli/src/args.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { commands } from "../../packages/cli/src/commands/index.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { UsageError } from "../../packages/cli/src/errors.mjs";

const parse = (line: string) => parseCommandLine(line === "" ? [] : line.split(" "), commands);

function usageError(line: string): { message: string; usage: string[] } {
  try {
    parse(line);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return { message: (err as Error).message, usage: (err as { usage: string[] }).usage };
  }
  throw new Error(`no UsageError for: ${line}`);
}

describe("grammarOf", () => {
  it("admin:cli — reads words, positionals and each kind of option from a usage line", () => {
    expect(grammarOf("sessions events <tenant> <session> [--after N] [--follow] [--auth key|none] [--label LABEL]")).toEqual({
      words: ["sessions", "events"],
      positionals: ["tenant", "session"],
      options: [
        { name: "after", type: "string", kind: "integer" },
        { name: "follow", type: "boolean", kind: "flag" },
        { name: "auth", type: "string", kind: "choice", choices: ["key", "none"] },
        { name: "label", type: "string", kind: "text" },
      ],
    });
    expect(grammarOf("health")).toEqual({ words: ["health"], positionals: [], options: [] });
  });
});

describe("parseCommandLine", () => {
  it("admin:cli — finds the command and its positionals, with flags anywhere", () => {
    const parsed = parse("sessions events --follow acme SID --after 5");
    expect(parsed.kind).toBe("run");
    expect(parsed.command.usage).toBe("sessions events <tenant> <session> [--after N] [--limit N] [--follow]");
    expect(parsed.args).toEqual({ tenant: "acme", session: "SID" });
    expect(parsed.opts).toEqual({ url: undefined, token: undefined, json: false, after: 5, limit: undefined, follow: true });
  });

  it("admin:cli — takes the global options on every command", () => {
    const parsed = parse("health --json --url http://x:1 --token t0k");
    expect(parsed.opts).toEqual({ url: "http://x:1", token: "t0k", json: true });
    expect(parsed.args).toEqual({});
  });

  it("admin:cli — reads --flag=value as well as --flag value", () => {
    expect(parse("tenants create acme --auth=none --name=Acme").opts).toMatchObject({ auth: "none", name: "Acme" });
  });

  it("admin:cli — prefers the longest command: `sessions events` over a `sessions` group word", () => {
    expect(parse("sessions ls acme").command.usage).toBe("sessions ls <tenant>");
    expect(parse("sessions show acme s1").args).toEqual({ tenant: "acme", session: "s1" });
  });

  it("admin:cli — takes a platform id that starts with - as the positional it is, never as short options", () => {
    // Session ids are base64url: one in 64 starts with "-".
    expect(parse("sessions show acme -Ab_9xK").args).toEqual({ tenant: "acme", session: "-Ab_9xK" });
    expect(parse("sessions events acme -x --after 3 --json")).toMatchObject({ args: { tenant: "acme", session: "-x" }, opts: { after: 3, json: true } });
    expect(parse("keys revoke acme -key")).toMatchObject({ args: { tenant: "acme", key: "-key" } });
    expect(usageError("sessions events acme s1 --after -3").message).toBe('--after must be a whole number, not "-3"');
  });

  it("admin:cli — asks for help for no command with --help, `help`, `help <words>` and `<command> --help`", () => {
    expect(parse("help")).toMatchObject({ kind: "help", all: true });
    expect(parse("--help")).toMatchObject({ kind: "help", all: true });
    expect(parse("-h")).toMatchObject({ kind: "help", all: true });
    const keys = parse("help keys");
    expect(keys.kind).toBe("help");
    expect(keys.all).toBe(false);
    expect(keys.commands.map((c: { usage: string }) => c.usage)).toEqual(["keys ls <tenant>", "keys create <tenant> [--label LABEL]", "keys revoke <tenant> <key>"]);
    expect(parse("keys --help").commands).toHaveLength(3);
    expect(parse("keys revoke --help")).toMatchObject({ kind: "help", all: false, commands: [{ usage: "keys revoke <tenant> <key>" }] });
  });

  it("admin:cli — explains each bad command line, with the usage to fix it", () => {
    expect(usageError("")).toEqual({ message: "no command given", usage: ["smcp <command> ...   (smcp help lists the commands)"] });
    expect(usageError("frobnicate")).toEqual({ message: "unknown command: frobnicate", usage: ["smcp <command> ...   (smcp help lists the commands)"] });
    expect(usageError("keys")).toMatchObject({ message: "keys needs a subcommand", usage: ["smcp keys ls <tenant>", "smcp keys create <tenant> [--label LABEL]", "smcp keys revoke <tenant> <key>"] });
    expect(usageError("keys drop acme").message).toBe("unknown subcommand: keys drop");
    expect(usageError("help nothing")).toEqual({ message: "no command nothing", usage: ["smcp help [<command>]"] });
    expect(usageError("keys revoke acme")).toEqual({ message: "missing <key>", usage: ["smcp keys revoke <tenant> <key>"] });
    expect(usageError("keys ls acme extra").message).toBe("unexpected argument: extra");
    expect(usageError("audit acme --after=-1").message).toBe('--after must be a whole number, not "-1"');
    // parseArgs' own explanation, cut at its first sentence.
    expect(usageError("audit acme --after -1").message).toBe('--after must be a whole number, not "-1"');
    expect(usageError("audit acme --after 1.5").message).toBe('--after must be a whole number, not "1.5"');
    expect(usageError("audit acme --limit ten").message).toBe('--limit must be a whole number, not "ten"');
    expect(usageError("tenants create acme --auth maybe").message).toBe('--auth must be one of key, none, not "maybe"');
  });

  it("admin:cli — refuses options the command does not have, even if another command has them", () => {
    const err = usageError("keys ls acme --follow");
    expect(err.message).toMatch(/^Unknown option '--follow'/);
    expect(err.usage).toEqual(["smcp keys ls <tenant>"]);
    expect(usageError("health --verify").message).toMatch(/^Unknown option '--verify'/);
  });

  it("admin:cli — refuses a value for a flag and a missing value for an option", () => {
    expect(usageError("audit acme --verify=yes").message).toMatch(/--verify/);
    expect(usageError("audit acme --after").message).toMatch(/--after/);
  });

  it("admin:cli — every command of the table parses its own usage line with sample values", () => {
    for (const command of commands as { usage: string }[]) {
      const { words, positionals } = grammarOf(command.usage);
      const parsed = parse([...words, ...positionals.map((p: string) => `x-${p}`)].join(" "));
      expect(parsed.kind, command.usage).toBe("run");
      expect(parsed.command.usage).toBe(command.usage);
      expect(Object.values(parsed.args)).toEqual(positionals.map((p: string) => `x-${p}`));
    }
  });
});
