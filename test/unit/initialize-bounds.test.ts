/** The bounds on `initialize` params and `clientInfo` (issue 10, item 5), checked before anything stores them. */
import { describe, expect, it } from "vitest";
import {
  CLIENT_INFO_FIELD_MAX_CHARS,
  CLIENT_INFO_MAX_BYTES,
  INITIALIZE_PARAMS_MAX_BYTES,
  initializeParamsProblem,
} from "../../workers/smcp/src/mcp/initialize-bounds";

const params = (clientInfo: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo,
  ...extra,
});

describe("initializeParamsProblem", () => {
  it("platform:client-bounds — accepts fields at their bounds", () => {
    const at = "n".repeat(CLIENT_INFO_FIELD_MAX_CHARS);
    expect(initializeParamsProblem(params({ name: at, version: at, title: at }))).toBeNull();
  });

  it("platform:client-bounds — refuses name, version or title one character over", () => {
    const over = "x".repeat(CLIENT_INFO_FIELD_MAX_CHARS + 1);
    expect(initializeParamsProblem(params({ name: over, version: "1" }))).toMatch(/clientInfo\.name is 257 characters/);
    expect(initializeParamsProblem(params({ name: "a", version: over }))).toMatch(/clientInfo\.version is 257/);
    expect(initializeParamsProblem(params({ name: "a", version: "1", title: over }))).toMatch(/clientInfo\.title is 257/);
  });

  it("platform:client-bounds — refuses a 200 KB name (the issue's reproduction)", () => {
    expect(initializeParamsProblem(params({ name: "n".repeat(200 * 1024), version: "1" }))).toMatch(/clientInfo\.name is 204800 characters; at most 256/);
  });

  it("platform:client-bounds — refuses a clientInfo over 4 KB as JSON, counted in UTF-8 bytes", () => {
    const icons = [{ src: `https://x.example/${"é".repeat(CLIENT_INFO_MAX_BYTES / 2)}` }];
    expect(initializeParamsProblem(params({ name: "a", version: "1", icons }))).toMatch(/clientInfo is \d+ bytes as JSON; at most 4096/);
  });

  it("platform:client-bounds — refuses params over 16 KB even when clientInfo is small", () => {
    const capabilities = { experimental: { pad: "p".repeat(INITIALIZE_PARAMS_MAX_BYTES) } };
    expect(initializeParamsProblem(params({ name: "a", version: "1" }, { capabilities }))).toMatch(/at most 16384 are accepted/);
  });

  it("platform:client-bounds — refuses a clientInfo whose name is not a string", () => {
    expect(initializeParamsProblem(params({ name: 5, version: "1" }))).toMatch(/clientInfo\.name must be a string/);
    expect(initializeParamsProblem({ protocolVersion: "2025-11-25", capabilities: {} })).toMatch(/needs clientInfo/);
  });
});
