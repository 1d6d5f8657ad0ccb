import { describe, expect, it } from "@jest/globals";
import { sanitize, sanitizeValue } from "../../shared/sanitize/index.js";
import { safeCut } from "../../shared/sanitize/text-chunks.js";
import { HEX, fake, join } from "./sanitize-fakes.js";

describe("sanitize: operational identifiers stay verbatim", () => {
  it.each([
    ["Foundry IDs", `run ${"run_" + fake(24)} thread ${"thread_" + fake(24)} agent ${"asst_" + fake(24)} msg_${fake(24)} step_${fake(24)} call_${fake(24)}`],
    ["v2 response and conversation IDs", `resp_${fake(48, HEX)} conv_${fake(48, HEX)}`],
    ["GUIDs", "tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 correlation 0e9c2c1a-5b7d-4f3e-9a61-3d2f8b7c6a50"],
    ["GUIDs that are all digits", "subscription 12345678-1234-5678-1234-567812345678"],
    ["ISO timestamps", "created 2026-02-11T08:15:42.123Z expires 2026-02-11 09:15:42+01:00"],
    ["error codes and HTTP statuses", "last_error server_error / rate_limit_exceeded / tool_execution_failed, HTTP 429, 503 Service Unavailable"],
    ["model and deployment names", "model gpt-4.1-mini deployment gpt-4o-2024-08-06, o4-mini, text-embedding-3-large"],
    ["versions, durations, counts, ports", "v1.2.3 build 4.0.30319.42000 took 1500 ms, 12,345 tokens, total_tokens=1801, port 5671, :443"],
    ["labelled digests", `sha256 ${fake(64, HEX)}, md5: ${fake(32, HEX)}, etag "0x8DC2F1A2B3C4D5E"`],
    ["Azure resource names and IDs", "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-prod/providers/Microsoft.CognitiveServices/accounts/aoai-prod-eus2 on st4prodlogs.blob.core.windows.net"],
    ["times of day, dates, C++ scopes, loopback", "12:30:45 on 03/15/2026, std::vector<int>, ::1, 127.0.0.1:7071"],
  ])("%s", (_name, text) => {
    expect(sanitize(text)).toBe(text);
  });

  it("IDs survive next to secrets and personal data", () => {
    const runId = "run_" + fake(24);
    const guid = "4b8d2f6e-1a3c-4e5f-8a9b-0c1d2e3f4a5b";
    const key = join("gh", "p_", fake(36));
    const out = sanitize(`${runId} ${guid} ${key} jane.roe@example.org 2026-01-02T03:04:05Z`);
    expect(out).toBe(`${runId} ${guid} [REDACTED:github-token] [REDACTED:email] 2026-01-02T03:04:05Z`);
  });

  it("is idempotent: sanitizing twice changes nothing more", () => {
    const text = `password=${fake(12)} at 198.51.100.4, +44 7700 900123, 4012 8888 8888 1881, Bearer ${fake(30)}`;
    const once = sanitize(text);
    expect(sanitize(once)).toBe(once);
  });

  it("leaves empty and plain text alone", () => {
    expect(sanitize("")).toBe("");
    expect(sanitize("The run stalled in queued for 12 minutes.")).toBe("The run stalled in queued for 12 minutes.");
  });
});

describe("sanitizeValue", () => {
  it("sanitizes every string inside objects and arrays, keeps keys and other types, does not mutate", () => {
    const key = join("sk", "-proj-", fake(40));
    const input = {
      runId: "run_" + fake(24),
      error: { code: "server_error", message: `upstream said ${key}` },
      contacts: ["ana@example.com", { phone: "+1 206 555 0100" }],
      tokens: 42,
      ok: false,
      nothing: null,
      at: new Date(0),
    };
    const out = sanitizeValue(input);
    expect(out).toEqual({
      runId: input.runId,
      error: { code: "server_error", message: "upstream said [REDACTED:openai-key]" },
      contacts: ["[REDACTED:email]", { phone: "[REDACTED:phone]" }],
      tokens: 42,
      ok: false,
      nothing: null,
      at: input.at,
    });
    expect(input.error.message).toContain(key);
  });

  it("copes with cycles and bare strings", () => {
    const a: Record<string, unknown> = { note: "mail bo@example.net" };
    a.self = a;
    const out = sanitizeValue(a);
    expect(out.note).toBe("mail [REDACTED:email]");
    expect(out.self).toBe(out);
    expect(sanitizeValue("10.20.30.40")).toBe("[REDACTED:ip]");
  });
});

describe("safeCut (streaming plain text)", () => {
  it("cuts after the last newline, but never inside an unfinished PEM block", () => {
    expect(safeCut("no newline yet")).toBe(0);
    expect(safeCut("a\nb\nc")).toBe(4);
    const open = "line\n-----BEGIN PRIVATE KEY-----\nMIIE";
    expect(safeCut(open)).toBe(5);
    const closed = open + "\n-----END PRIVATE KEY-----\ntail";
    expect(safeCut(closed)).toBe(closed.length - 4);
  });
});
