import { createHash } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { buildEvidence } from "../../shared/tickets/evidence.js";
import { exampleEvidenceInput } from "../../shared/tickets/example.js";

const SECRET = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const EMAIL = "jane.doe@contoso.com";

describe("buildEvidence", () => {
  it("carries the IDs, status, model, usage and every timestamp, times as ISO strings", () => {
    const b = buildEvidence(exampleEvidenceInput());
    expect(b.run).toMatchObject({
      project: "prod",
      api: "classic",
      runId: "run_IcGHs5uLnkuryPW7UTB9EUP8",
      threadId: "thread_PbA2PKEmQSFrYIjd4dYa9cTB",
      agentId: "asst_1ldWQqiEfDpLQX2tgMSjgRdd",
      agentName: "payments-helper",
      agentVersion: "3",
      status: "failed",
      model: "gpt-4o",
      session: "sess-42",
      owner: "payments-team",
      tags: { owner: "payments-team", env: "prod" },
    });
    expect(b.timestamps).toEqual({
      registered: "2025-06-05T21:39:16.000Z",
      created: "2025-06-05T21:39:16.000Z",
      started: "2025-06-05T21:39:18.000Z",
      failed: "2025-06-05T21:41:26.000Z",
      expires: "2025-06-05T21:49:16.000Z",
      statusSince: "2025-06-05T21:41:27.000Z",
      lastProgress: "2025-06-05T21:40:03.000Z",
    });
    expect(b.usage).toEqual({ promptTokens: 1834, completionTokens: 211, totalTokens: 2045 });
    expect(b.timeline.map((t) => [t.seq, t.from, t.to])).toEqual([
      [1, null, "queued"],
      [2, "queued", "in_progress"],
      [3, "in_progress", "failed"],
    ]);
    expect(b.escalations).toEqual([
      { messageId: "run_IcGHs5uLnkuryPW7UTB9EUP8:failed:1", kind: "escalation", reason: "failed", episode: 1, severity: "high", owner: "payments-team", at: "2025-06-05T21:41:27.000Z", ruleTrueAt: "2025-06-05T21:41:26.000Z" },
    ]);
    expect(b.generatedAt).toBe("2025-06-05T21:41:28.000Z");
  });

  it("keeps the error code verbatim and sanitizes the error message", () => {
    const b = buildEvidence(exampleEvidenceInput());
    expect(b.error?.code).toBe("server_error");
    expect(b.error?.message).toContain("Tool crm_search failed");
    expect(b.error?.message).not.toContain(SECRET);
    expect(b.error?.message).not.toContain(EMAIL);
    expect(b.error?.message).toContain("[REDACTED:");
  });

  it("describes the final message by ID, role, length and SHA-256, without its text by default", () => {
    const input = exampleEvidenceInput();
    const text = input.finalMessage!.text;
    const b = buildEvidence(input);
    expect(b.finalMessage).toEqual({ id: "msg_WMmJ1Ot0yxbpG6kcG5YO3Ch0", role: "assistant", length: text.length, sha256: createHash("sha256").update(text).digest("hex") });
    expect(b.policy).toEqual({ includeToolArguments: false, includeMessageText: false });
    const json = JSON.stringify(b);
    expect(json).not.toContain("could not look up");
    expect(json).not.toContain(EMAIL);
    expect(json).not.toContain(SECRET);
  });

  it("includes the sanitized text only when the policy allows it", () => {
    const b = buildEvidence(exampleEvidenceInput({ policy: { includeMessageText: true } }));
    expect(b.finalMessage?.text).toContain("I could not look up the customer record for");
    expect(b.finalMessage?.text).not.toContain(EMAIL);
    // The hash is of the original text: provenance, not the redacted copy.
    expect(b.finalMessage?.sha256).toBe(createHash("sha256").update(exampleEvidenceInput().finalMessage!.text).digest("hex"));
  });

  it("counts length in characters, not UTF-16 units or bytes", () => {
    const b = buildEvidence(exampleEvidenceInput({ finalMessage: { id: "msg_x", role: "assistant", text: "ok 👍 é" } }));
    expect(b.finalMessage?.length).toBe(6);
  });

  it("falls back to the final message ID alone when the message was not fetched", () => {
    const b = buildEvidence(exampleEvidenceInput({ finalMessage: undefined }));
    expect(b.finalMessage).toEqual({ id: "msg_WMmJ1Ot0yxbpG6kcG5YO3Ch0" });
  });

  it("reports tool calls with type, name, status and duration — finished or still running", () => {
    const input = exampleEvidenceInput();
    const now = input.now;
    const b = buildEvidence({
      ...input,
      steps: [
        ...input.head.steps!,
        { id: "step_2", type: "tool_calls", status: "in_progress", createdAt: now - 95_000, toolCalls: [{ id: "call_2", type: "azure_function", name: "ledger_post" }, { id: "call_3", type: "code_interpreter" }] },
        { id: "step_3", type: "message_creation", status: "completed", createdAt: now - 1000, completedAt: now, toolCalls: [], messageId: "msg_1" },
      ],
    });
    expect(b.toolCalls).toEqual([
      { id: "call_u1Q3ZkL0wq3NYOOgAuSfTb1p", stepId: "step_8ZfTCmkOVvtmzD0P9Uo2Dn8x", type: "function", name: "crm_search", status: "failed", startedAt: "2025-06-05T21:39:56.000Z", completedAt: "2025-06-05T21:40:03.250Z", durationMs: 7250 },
      { id: "call_2", stepId: "step_2", type: "azure_function", name: "ledger_post", status: "in_progress", startedAt: new Date(now - 95_000).toISOString(), runningForMs: 95_000 },
      { id: "call_3", stepId: "step_2", type: "code_interpreter", status: "in_progress", startedAt: new Date(now - 95_000).toISOString(), runningForMs: 95_000 },
    ]);
  });

  it("sanitizes free text the caller chose (tags, session, agent name) but keeps IDs", () => {
    const input = exampleEvidenceInput();
    const b = buildEvidence({ ...input, head: { ...input.head, session: `support chat with ${EMAIL}`, tags: { requester: EMAIL, ticket: "run_IcGHs5uLnkuryPW7UTB9EUP8" } } });
    expect(JSON.stringify(b)).not.toContain(EMAIL);
    expect(b.run.tags.ticket).toBe("run_IcGHs5uLnkuryPW7UTB9EUP8");
    expect(b.run.tags.requester).toContain("[REDACTED:");
  });

  it("is pure: same input, same bundle; the input is not modified", () => {
    const input = exampleEvidenceInput();
    const before = JSON.stringify(input);
    expect(buildEvidence(input)).toEqual(buildEvidence(exampleEvidenceInput()));
    expect(JSON.stringify(input)).toBe(before);
  });
});
