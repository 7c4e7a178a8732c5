/**
 * Health of upstream servers against a real upstream (./upstream-server.ts: the SDK's
 * v2 server on loopback, restartable): the probe that `PUT .../upstream` schedules at
 * once finds it reachable with its tools and a latency, and deletes the upstream
 * session it opened; stopped, it is unreachable with the relay's error and each failure
 * in a row doubles the wait up to the cap; restarted, a probe finds it reachable again;
 * wrong credentials, a 503 and a hung upstream give the relay's wording (401 with what to
 * do, the status, the probe's timeout); `smcp upstream ...` prints all of it.
 * Probes are run by `POST .../upstream/probe` (the scheduled ones are minutes apart).
 */
import { spawn } from "node:child_process";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Platform } from "./platform";
import { UPSTREAM_KEY, seen, startUpstream, stopUpstream, urlOf } from "./upstream-server";
import type { UpstreamHealthView } from "../../workers/smcp/src/tenant/upstream-health";

const SMCP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/cli/bin/smcp.mjs");
const INTERVAL_S = 60;
const MAX_BACKOFF_S = 300;

const TIMEOUT_S = 2;

const platform = new Platform({
  vars: { SMCP_UPSTREAM_PROBE_INTERVAL_SECONDS: String(INTERVAL_S), SMCP_UPSTREAM_PROBE_MAX_BACKOFF_SECONDS: String(MAX_BACKOFF_S), SMCP_UPSTREAM_PROBE_TIMEOUT_SECONDS: String(TIMEOUT_S) },
});
let tenant: string;
let upstream: http.Server;

async function api(method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(`${platform.url}/admin/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, `${method} ${p}: ${text}`).toBeLessThan(300);
  return JSON.parse(text);
}

const upstreamPath = (server: string) => `/tenants/${tenant}/servers/${server}/upstream`;
const probe = async (server: string): Promise<UpstreamHealthView> => (await api("POST", `${upstreamPath(server)}/probe`)).health;

/** The probe the PUT scheduled, once it has run (it runs on the tenant's alarm, at once). */
async function firstProbe(server: string): Promise<UpstreamHealthView> {
  for (let i = 0; i < 200; i++) {
    const { health } = await api("GET", upstreamPath(server));
    if (health.state !== "unchecked") return health;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the first probe of ${server} never ran`);
}

function smcp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SMCP, ...args, "--url", platform.url, "--token", ADMIN_TOKEN], { env: { ...process.env, SMCP_URL: "", SMCP_ADMIN_TOKEN: "", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  upstream = await startUpstream();
  await platform.start();
  tenant = (await platform.tenant("health-acme")).tenant;
  await api("PUT", `/tenants/${tenant}/servers/remote/secrets/UPSTREAM_KEY`, UPSTREAM_KEY);
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
});

describe("upstream health, against a real upstream", () => {
  it("upstream:health upstream:health-admin admin:cli — set through the CLI, the first probe runs at once: reachable, tools count and latency; the probe's upstream session is deleted; show prints it", async () => {
    const closed = seen.sessionsClosed;
    const set = await smcp(["upstream", "set", tenant, "remote", urlOf(upstream), "--header", "X-Upstream-Key=${secret:UPSTREAM_KEY}"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`${tenant}/remote now fronts ${urlOf(upstream)}`);
    expect(set.stdout).toContain("its headers name the secrets UPSTREAM_KEY");
    const health = await firstProbe("remote");
    expect(health).toMatchObject({ state: "reachable", reachable: true, tools: 7, protocolVersion: "2025-11-25", consecutiveFailures: 0, lastError: null });
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(health.nextCheckAt - health.checkedAt!).toBe(INTERVAL_S * 1000);
    expect(seen.sessionsClosed).toBe(closed + 1);
    const shown = await smcp(["upstream", "show", tenant, "remote"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/health\s+reachable: 7 tools, protocol 2025-11-25/);
    expect(shown.stdout).toMatch(new RegExp(`latency\\s+${health.latencyMs} ms`));
    expect(shown.stdout).toMatch(/headers\s+x-upstream-key/);
    expect(shown.stdout).toMatch(/next check\s+\S+ \S+Z \(in \d+s\)/);
    expect(shown.stdout).not.toContain(UPSTREAM_KEY);
    const server = await smcp(["servers", "show", tenant, "remote"]);
    expect(server.code, server.stderr).toBe(0);
    expect(server.stdout).toMatch(/health\s+reachable: 7 tools/);
    expect(server.stdout).toMatch(/status\s+serving/);
  });

  it("upstream:health upstream:health-admin admin:cli — stopped, the upstream is unreachable with the relay's error and the wait doubles up to the cap; restarted, a probe finds it reachable again", async () => {
    const port = (upstream.address() as AddressInfo).port;
    await stopUpstream(upstream);
    const waits: number[] = [];
    let down: UpstreamHealthView | undefined;
    for (let n = 1; n <= 4; n++) {
      down = await probe("remote");
      expect(down).toMatchObject({ state: "unreachable", reachable: false, consecutiveFailures: n });
      waits.push((down.nextCheckAt - down.checkedAt!) / 1000);
    }
    expect(waits).toEqual([INTERVAL_S, 2 * INTERVAL_S, 4 * INTERVAL_S, MAX_BACKOFF_S]);
    expect(down!.lastError).toMatch(new RegExp(`^Upstream remote \\(127\\.0\\.0\\.1:${port}\\) could not be reached for initialize: 127\\.0\\.0\\.1:${port} could not be reached`));
    const shown = await smcp(["upstream", "show", tenant, "remote"]);
    expect(shown.stdout).toMatch(/health\s+UNREACHABLE \(4 failures in a row\)/);
    expect(shown.stdout).toMatch(new RegExp(`last error\\s+Upstream remote \\(127\\.0\\.0\\.1:${port}\\) could not be reached for initialize`));
    const probed = await smcp(["upstream", "probe", tenant, "remote"]);
    expect(probed.code).toBe(1);
    expect(probed.stdout).toMatch(/UNREACHABLE \(5 failures in a row\)/);

    upstream = await startUpstream(port);
    const up = await probe("remote");
    expect(up).toMatchObject({ state: "reachable", tools: 7, consecutiveFailures: 0 });
    expect(up.nextCheckAt - up.checkedAt!).toBe(INTERVAL_S * 1000);
    // The last error stays readable after the recovery, with its time.
    expect(up.lastError).toContain("could not be reached for initialize");
    expect(up.lastReachableAt).toBe(up.checkedAt);
    const again = await smcp(["upstream", "probe", tenant, "remote"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/health\s+reachable: 7 tools/);
    const health = await api("GET", "/health");
    expect(health.upstreams.unreachableServers).not.toContain(`${tenant}/remote`);
  });

  it("upstream:health — wrong credentials, a failing and a hung upstream are recorded as the relay words them: 401 with what to do, 503 with its status, the timeout", async () => {
    await api("PUT", `/tenants/${tenant}/servers/wrong/secrets/UPSTREAM_KEY`, "not-the-key");
    await api("PUT", upstreamPath("wrong"), { url: urlOf(upstream), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
    const wrong = await firstProbe("wrong");
    expect(wrong.state).toBe("unreachable");
    expect(wrong.lastError).toMatch(/^Upstream wrong \(127\.0\.0\.1:\d+\) refused SMCP's credentials \(HTTP 401\)\. A tenant admin sets the upstream's credential as a secret of server wrong/);
    expect(wrong.lastError).toContain("its authorization metadata: http://127.0.0.1/.well-known/oauth-protected-resource/mcp");
    await api("PUT", upstreamPath("down"), { url: urlOf(upstream, "/fail") });
    expect((await firstProbe("down")).lastError).toMatch(/^Upstream down \(127\.0\.0\.1:\d+\) answered initialize with HTTP 503$/);
    await api("PUT", upstreamPath("hung"), { url: urlOf(upstream, "/hang") });
    expect((await firstProbe("hung")).lastError).toMatch(new RegExp(`^Upstream hung \\(127\\.0\\.0\\.1:\\d+\\) did not answer initialize within ${TIMEOUT_S} s$`));
    const health = await api("GET", "/health");
    expect(health.upstreams.unreachableServers).toEqual(expect.arrayContaining([`${tenant}/wrong`, `${tenant}/down`]));
    const removed = await smcp(["upstream", "rm", tenant, "down"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await api("GET", "/health")).upstreams.unreachableServers).not.toContain(`${tenant}/down`);
  });

  it("upstream:health — an upstream that serves only 2026-07-28 (it refuses the 2025 handshake) is probed with server/discover and a stateless tools/list: reachable, its tools, the revision", async () => {
    const modern = await startUpstream(0, { era: "2026" });
    try {
      await api("PUT", `/tenants/${tenant}/servers/modern/secrets/UPSTREAM_KEY`, UPSTREAM_KEY);
      await api("PUT", upstreamPath("modern"), { url: urlOf(modern), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
      const health = await firstProbe("modern");
      expect(health).toMatchObject({ state: "reachable", reachable: true, tools: 7, protocolVersion: "2026-07-28", lastError: null });
    } finally {
      await stopUpstream(modern);
    }
  });
});
