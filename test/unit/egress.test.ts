// Egress allow-list rules (workers/smcp/src/sandbox/egress.ts): what an admin may
// list, and what the sandbox's outbound lets through, with and without
// SMCP_ALLOW_LOOPBACK_EGRESS.
import { describe, expect, it } from "vitest";
import { checkEgressEntry, egressVerdict, hostKind, reservedHostProblem } from "../../workers/smcp/src/sandbox/egress";

const strict = { allowLoopback: false };
const loopback = { allowLoopback: true };

const refused = (entry: string, policy = strict) => {
  const check = checkEgressEntry(entry, policy);
  expect(check.ok, `${entry} should be refused`).toBe(false);
  return check.ok ? "" : check.reason;
};
const accepted = (entry: string, policy = strict) => {
  const check = checkEgressEntry(entry, policy);
  expect(check, entry).toMatchObject({ ok: true });
  return check.ok ? check.entry : "";
};

describe("allow-list entries", () => {
  it("egress:loopback — host names, subdomain wildcards and ports are accepted, normalised to lower case", () => {
    expect(accepted("API.Example.com")).toBe("api.example.com");
    expect(accepted("*.example.com")).toBe("*.example.com");
    expect(accepted("api.example.com:8443")).toBe("api.example.com:8443");
    expect(accepted("*.cdn.example")).toBe("*.cdn.example");
    expect(accepted("*.wikipedia.org")).toBe("*.wikipedia.org");
    expect(accepted("user.github.io")).toBe("user.github.io");
    expect(refused("https://x.example/path")).toMatch(/is not a host name/);
    expect(refused("api.example.com:0")).toMatch(/invalid port/);
    expect(refused("api.example.com:70000")).toMatch(/invalid port/);
  });

  it("egress:loopback — IPv4 and IPv6 in every form URL parsing normalises are refused", () => {
    for (const [entry, means] of [
      ["169.254.169.254", ""],
      ["10.0.0.1:8080", ""],
      ["2130706433", "127.0.0.1"],
      ["0x7f.1", "127.0.0.1"],
      ["0177.0.0.1", "127.0.0.1"],
      ["0xa9fea9fe", "169.254.169.254"],
      ["3232235777", "192.168.1.1"],
      ["1.2.3", "1.2.0.3"],
    ] as const) {
      const reason = refused(entry);
      expect(reason).toMatch(/is an IP address/);
      if (means) expect(reason).toContain(`(it means ${means})`);
    }
    expect(refused("*.1.2.3")).toMatch(/is an IP address/);
    expect(refused("foo.123")).toMatch(/ends in a number/);
    for (const entry of ["[::1]", "[2001:db8::1]", "[2001:db8::1]:443", "::1", "2001:db8::1", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]"]) {
      expect(refused(entry), entry).toMatch(/is (an IP address \(IPv6\)|a loopback host)/);
    }
  });

  it("egress:loopback — localhost, *.localhost and loopback addresses only with SMCP_ALLOW_LOOPBACK_EGRESS", () => {
    for (const entry of ["localhost", "LOCALHOST:8080", "api.localhost", "*.localhost", "[::1]:8080"]) {
      expect(refused(entry), entry).toMatch(/loopback host; loopback egress is allowed only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS/);
    }
    expect(refused("127.0.0.1:8080")).toMatch(/is an IP address/);
    expect(accepted("localhost:8080", loopback)).toBe("localhost:8080");
    expect(accepted("127.0.0.1:8080", loopback)).toBe("127.0.0.1:8080");
    expect(accepted("2130706433:9", loopback)).toBe("127.0.0.1:9");
    expect(accepted("[::1]:8080", loopback)).toBe("[::1]:8080");
    expect(accepted("*.localhost", loopback)).toBe("*.localhost");
    // Other IP addresses stay refused.
    expect(refused("10.0.0.1", loopback)).toMatch(/is an IP address/);
    expect(refused("[2001:db8::1]", loopback)).toMatch(/IPv6/);
  });

  it("egress:loopback — wildcards over a public suffix are refused (Public Suffix List, private domains included)", () => {
    for (const suffix of ["com", "co.uk", "github.io", "org", "internal", "s3.amazonaws.com"]) {
      expect(refused(`*.${suffix}`)).toBe(`"*.${suffix}" would allow every domain under the public suffix "${suffix}"; list the domains themselves`);
    }
    expect(accepted("*.example.co.uk")).toBe("*.example.co.uk");
    expect(accepted("*.someone.github.io")).toBe("*.someone.github.io");
    // A bare suffix is one exact host, not a wildcard: allowed.
    expect(accepted("com")).toBe("com");
  });
});

describe("outbound verdicts", () => {
  const verdict = (url: string, allow: string[], policy = strict) => egressVerdict(new URL(url), allow, policy);

  it("egress:loopback — listed hosts and ports pass, others do not", () => {
    const allow = ["api.allowed.example", "*.cdn.example", "port.example:8443"];
    expect(verdict("https://api.allowed.example/x", allow)).toEqual({ ok: true });
    expect(verdict("https://a.b.cdn.example/x", allow)).toEqual({ ok: true });
    expect(verdict("https://port.example:8443/", allow)).toEqual({ ok: true });
    for (const url of ["https://cdn.example/", "https://api.allowed.example.attacker.example/", "https://api.allowed.example:8443/", "https://port.example/"]) {
      expect(verdict(url, allow), url).toEqual({ ok: false, reason: "not-listed" });
    }
    expect(verdict("ftp://api.allowed.example/", allow)).toEqual({ ok: false, reason: "scheme" });
    // A public-suffix wildcard stored before they were refused matches nothing.
    expect(verdict("https://anyone.com/", ["*.com"])).toEqual({ ok: false, reason: "not-listed" });
    expect(verdict("https://a.b.co.uk/", ["*.co.uk"])).toEqual({ ok: false, reason: "not-listed" });
  });

  it("egress:loopback — an IP literal host is refused even when it is on the list", () => {
    const allow = ["169.254.169.254", "127.0.0.1", "[::1]", "[2001:db8::1]"];
    for (const url of ["http://169.254.169.254/latest", "http://2852039166/", "http://0xa9fea9fe/", "http://[2001:db8::1]/", "http://[::ffff:a9fe:a9fe]/"]) {
      expect(verdict(url, allow), url).toEqual({ ok: false, reason: "ip-literal" });
    }
    for (const url of ["http://127.0.0.1/", "http://2130706433/", "http://[::1]/", "http://localhost/", "http://a.localhost/"]) {
      expect(verdict(url, [...allow, "localhost", "*.localhost"]), url).toEqual({ ok: false, reason: "loopback" });
    }
  });

  it("egress:loopback — with SMCP_ALLOW_LOOPBACK_EGRESS, listed loopback hosts pass and others still need the list", () => {
    expect(verdict("http://127.0.0.1:8080/", ["127.0.0.1:8080"], loopback)).toEqual({ ok: true });
    expect(verdict("http://2130706433:8080/", ["127.0.0.1:8080"], loopback)).toEqual({ ok: true });
    expect(verdict("http://[::1]:8080/", ["[::1]:8080"], loopback)).toEqual({ ok: true });
    expect(verdict("http://localhost:9/", ["127.0.0.1:8080"], loopback)).toEqual({ ok: false, reason: "not-listed" });
    expect(verdict("http://10.0.0.1/", ["10.0.0.1"], loopback)).toEqual({ ok: false, reason: "ip-literal" });
  });

  it("egress:loopback — classifies hosts as URL parsing leaves them", () => {
    expect(hostKind(new URL("http://0177.0.0.1/").hostname)).toBe("loopback-ipv4");
    expect(hostKind(new URL("http://[0:0:0:0:0:0:0:1]/").hostname)).toBe("loopback-ipv6");
    expect(hostKind("example.com")).toBe("name");
    expect(hostKind("LocalHost")).toBe("localhost");
  });

  it("platform:clean-log — reserved names (RFC 2606) are failed without a fetch; real names that merely look alike are not", () => {
    for (const host of ["a.invalid", "x.test", "api.example", "example.com", "mcp.example.com", "EXAMPLE.ORG.", "b.example.net"]) {
      expect(reservedHostProblem(host), host).toBe(`${host.toLowerCase().replace(/\.$/, "")} is a reserved name (RFC 2606) that no server answers for`);
    }
    for (const host of ["example.co.uk", "myexample.com", "example.com.evil.io", "testing.dev", "invalid.org", "localhost"]) {
      expect(reservedHostProblem(host), host).toBeNull();
    }
  });
});
