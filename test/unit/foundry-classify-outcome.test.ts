import { describe, expect, test } from "@jest/globals";
import { DEFAULT_RETRY_AFTER_MS, FoundryRequestError, outcomeForFailure, outcomeForStatus, retryAfterMs } from "../../shared/foundry/classify-outcome.js";
import { MalformedBodyError } from "../../shared/foundry/wire.js";

describe("retryAfterMs", () => {
  const now = Date.parse("2026-03-02T09:00:00Z");
  test.each([
    [{ "retry-after-ms": "250" }, 250],
    [{ "x-ms-retry-after-ms": "1500" }, 1500],
    [{ "Retry-After": "7" }, 7000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after": "Mon, 02 Mar 2026 09:00:30 GMT" }, 30_000],
    [{ "retry-after": "Mon, 02 Mar 2026 08:59:00 GMT" }, 0],
    [{ "retry-after-ms": "300", "retry-after": "9" }, 300],
    [{ "retry-after": "soon" }, DEFAULT_RETRY_AFTER_MS],
    [{}, DEFAULT_RETRY_AFTER_MS],
  ])("%j → %d ms", (headers, ms) => {
    expect(retryAfterMs(headers as Record<string, string>, now)).toBe(ms);
  });

  test("reads Fetch Headers too", () => {
    expect(retryAfterMs(new Headers({ "Retry-After": "3" }))).toBe(3000);
  });
});

describe("outcomeForStatus", () => {
  test("404 → not-found, 429 → throttled, 5xx → transient", () => {
    expect(outcomeForStatus(404, {}, "run r")).toEqual({ kind: "not-found" });
    expect(outcomeForStatus(429, { "retry-after": "2" }, "run r")).toEqual({ kind: "throttled", retryAfterMs: 2000 });
    expect(outcomeForStatus(503, {}, "run r")).toMatchObject({ kind: "transient", cause: "http-5xx" });
    expect(outcomeForStatus(408, {}, "run r")).toMatchObject({ kind: "transient", cause: "timeout" });
  });

  test("403 is our configuration, not Foundry weather", () => {
    expect(() => outcomeForStatus(403, {}, "run r")).toThrow(FoundryRequestError);
    expect(() => outcomeForStatus(403, {}, "run r")).toThrow(/role/);
  });
});

describe("outcomeForFailure", () => {
  test("timeouts and aborts", () => {
    expect(outcomeForFailure(new Error("x"), true, "run r")).toMatchObject({ cause: "timeout" });
    expect(outcomeForFailure(Object.assign(new Error("x"), { name: "AbortError" }), false, "run r")).toMatchObject({ cause: "timeout" });
  });
  test("unreadable bodies", () => {
    expect(outcomeForFailure(new MalformedBodyError("run.status: is required"), false, "run r")).toMatchObject({ cause: "malformed", detail: "run r: run.status: is required" });
    expect(outcomeForFailure(new SyntaxError("Unexpected token"), false, "run r")).toMatchObject({ cause: "malformed" });
    expect(outcomeForFailure(Object.assign(new Error("x"), { code: "PARSE_ERROR" }), false, "run r")).toMatchObject({ cause: "malformed" });
  });
  test("anything else is the network; the detail names codes, not messages", () => {
    const o = outcomeForFailure(Object.assign(new Error("connect ECONNREFUSED 10.0.0.1 secret-host"), { code: "ECONNREFUSED" }), false, "run r");
    expect(o).toEqual({ kind: "transient", cause: "network", detail: "run r: Error ECONNREFUSED" });
  });
});
