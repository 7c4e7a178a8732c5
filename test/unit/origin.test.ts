// The DNS-rebinding guard (packages/runtime/src/origin.ts).
import { describe, expect, it } from "vitest";
import { isOriginAllowed } from "../../packages/runtime/src/origin";

describe("isOriginAllowed", () => {
  it("input:origin — lets requests without Origin through (non-browser clients)", () => {
    expect(isOriginAllowed(null, [])).toBe(true);
  });

  it("input:origin — allows loopback origins over http and https, any port", () => {
    for (const origin of ["http://localhost", "http://localhost:6274", "https://127.0.0.1:8443", "http://[::1]:3000", "http://LOCALHOST:1"]) {
      expect(isOriginAllowed(origin, []), origin).toBe(true);
    }
  });

  it("input:origin — allows exactly the configured origins, nothing that merely resembles them", () => {
    const allowed = ["https://app.example.com"];
    expect(isOriginAllowed("https://app.example.com", allowed)).toBe(true);
    for (const origin of ["https://app.example.com:443x", "http://app.example.com", "https://app.example.com.evil.test", "https://evil.app.example.com", "https://app.example.co"]) {
      expect(isOriginAllowed(origin, allowed), origin).toBe(false);
    }
  });

  it("input:origin — refuses other hosts, other schemes, look-alikes of loopback and garbage", () => {
    for (const origin of [
      "https://evil.example",
      "http://localhost.evil.example",
      "http://127.0.0.2",
      "http://0.0.0.0",
      "file://localhost",
      "ws://localhost",
      "null",
      "",
      "localhost",
      "http://",
    ]) {
      expect(isOriginAllowed(origin, []), origin).toBe(false);
    }
  });
});
