// The one loopback-host list (packages/runtime/src/loopback.ts) behind the Origin check,
// OAuth's loopback redirects and egress.
import { describe, expect, it } from "vitest";
import { isLoopbackHost, reachesLoopback } from "../../packages/runtime/src/loopback";
import { isOriginAllowed } from "../../packages/runtime/src/origin";
import { isAcceptableRedirectUri } from "../../workers/smcp/src/oauth/clients";
import { hostKind } from "../../workers/smcp/src/sandbox/egress";

const hostname = (url: string) => new URL(url).hostname;

describe("loopback hosts", () => {
  it("mcp:origin platform:oauth — the names a user's own app uses are localhost, 127.0.0.1 and [::1], as URL parsing spells them", () => {
    for (const url of ["http://localhost:1", "http://LOCALHOST/", "http://127.0.0.1:8080/", "http://[::1]:3000/", "http://[0:0:0:0:0:0:0:1]/"]) {
      expect(isLoopbackHost(hostname(url)), url).toBe(true);
    }
    for (const url of ["http://a.localhost/", "http://127.0.0.2/", "http://localhost.example/", "http://[::2]/", "http://example.com/"]) {
      expect(isLoopbackHost(hostname(url)), url).toBe(false);
    }
  });

  it("egress:loopback — every localhost subdomain, all of 127.0.0.0/8 and [::1] reach this machine", () => {
    for (const url of ["http://localhost/", "http://a.localhost/", "http://localhost./", "http://127.0.0.1/", "http://127.1.2.3/", "http://2130706433/", "http://0x7f.1/", "http://[::1]/"]) {
      expect(reachesLoopback(hostname(url)), url).toBe(true);
    }
    for (const url of ["http://localhost.example/", "http://128.0.0.1/", "http://[::2]/", "http://[::ffff:127.0.0.1]/", "http://example.com/"]) {
      expect(reachesLoopback(hostname(url)), url).toBe(false);
    }
  });

  it("mcp:origin platform:oauth egress:loopback — the Origin check, OAuth redirects and egress agree with the list", () => {
    for (const host of ["localhost", "127.0.0.1", "[::1]"]) {
      expect(isOriginAllowed(`http://${host}:5173`, []), host).toBe(true);
      expect(isAcceptableRedirectUri(`http://${host}:5173/cb`), host).toBe(true);
      expect(hostKind(host), host).not.toBe("name");
      expect(reachesLoopback(host), host).toBe(true);
    }
    expect(isOriginAllowed("http://a.localhost:5173", [])).toBe(false);
    expect(isAcceptableRedirectUri("http://a.localhost/cb")).toBe(false);
    expect(hostKind("a.localhost")).toBe("localhost");
  });
});
