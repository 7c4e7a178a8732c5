// `smcp secrets` as a person runs it: the value goes in on stdin (never argv), against
// `wrangler dev`; the deployed module reads it from its environment through the SDK client.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform } from "./platform";

const SMCP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/cli/bin/smcp.mjs");

const MODULE = `export default { tools: [
  { name: "token", inputSchema: { type: "object" }, handler: (args, ctx) => ctx.env.API_TOKEN ?? "(none)" },
] };`;

const platform = new Platform();
let tenant: string;
let key: string;

beforeAll(async () => {
  await platform.start();
  ({ tenant, key } = await platform.tenant("secrets-cli"));
  const res = await fetch(`${platform.url}/admin/v1/tenants/${tenant}/servers/api/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: MODULE,
  });
  expect(res.status, await res.text()).toBe(201);
});
afterAll(async () => {
  await platform.dispose();
});

/** Runs `smcp` to completion with `input` written to its stdin (a pipe, as from `printf ... |`). */
function smcp(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SMCP, ...args, "--url", platform.url, "--token", ADMIN_TOKEN], {
      env: { ...process.env, SMCP_URL: "", SMCP_ADMIN_TOKEN: "", NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function toolText(): Promise<string> {
  const { client } = await platform.connect(tenant, "api", key);
  try {
    const result = await client.callTool({ name: "token", arguments: {} });
    return (result.content as { type: string; text: string }[])[0]!.text;
  } finally {
    await client.close();
  }
}

describe("smcp secrets", () => {
  it("deployed:secrets admin:cli — set reads the value from stdin, ls shows the name only, the server reads it from env; rm removes it", async () => {
    const value = `sk_${crypto.randomUUID()}`;
    const set = await smcp(["secrets", "set", tenant, "api", "API_TOKEN"], `${value}\n`);
    expect(set, set.stderr).toMatchObject({ code: 0, stdout: `set API_TOKEN of ${tenant}/api; new sessions of the server see it\n` });
    expect(set.stdout + set.stderr).not.toContain(value);
    // One trailing newline (echo's) is not part of the value.
    expect(await toolText()).toBe(value);

    const replaced = await smcp(["secrets", "set", tenant, "api", "API_TOKEN"], "line one\nline two");
    expect(replaced.stdout).toBe(`replaced API_TOKEN of ${tenant}/api; new sessions of the server see it\n`);
    expect(await toolText()).toBe("line one\nline two");

    const ls = await smcp(["secrets", "ls", tenant, "api"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+SET\s+CREATED\s+KEY\nAPI_TOKEN\s/);
    expect(ls.stdout).not.toContain("line one");
    const json = JSON.parse((await smcp(["secrets", "ls", tenant, "api", "--json"])).stdout);
    expect(json.secrets.map((s: { name: string }) => s.name)).toEqual(["API_TOKEN"]);

    const rm = await smcp(["secrets", "rm", tenant, "api", "API_TOKEN"]);
    expect(rm).toMatchObject({ code: 0, stdout: `deleted API_TOKEN of ${tenant}/api\n` });
    expect(await toolText()).toBe("(none)");
  });

  it("deployed:secrets admin:cli — an empty value, a bad name or an unknown tenant fails with the reason and sets nothing", async () => {
    const empty = await smcp(["secrets", "set", tenant, "api", "API_TOKEN"], "");
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("the secret is empty");
    const bad = await smcp(["secrets", "set", tenant, "api", "api_token"], "v");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("[A-Z_][A-Z0-9_]{0,63}");
    const unknown = await smcp(["secrets", "set", `${tenant}-none`, "api", "API_TOKEN"], "v");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("does not exist");
    expect(JSON.parse((await smcp(["secrets", "ls", tenant, "api", "--json"])).stdout).secrets).toEqual([]);
  });
});
