// A realistic evidence input: a classic run that called a CRM tool which failed with a message
// full of things that must not reach a ticket. Used by the docs example and by tests, so the
// example in docs/tickets.md is exactly what the code renders.
import type { EvidenceInput } from "./evidence.js";

const T0 = Date.UTC(2025, 5, 5, 21, 39, 16); // 2025-06-05T21:39:16Z

export function exampleEvidenceInput(overrides: Partial<EvidenceInput> = {}): EvidenceInput {
  const ref = { project: "prod", api: "classic" as const, runId: "run_IcGHs5uLnkuryPW7UTB9EUP8", threadId: "thread_PbA2PKEmQSFrYIjd4dYa9cTB" };
  return {
    head: {
      ref,
      agentId: "asst_1ldWQqiEfDpLQX2tgMSjgRdd",
      agentName: "payments-helper",
      agentVersion: "3",
      session: "sess-42",
      tags: { owner: "payments-team", env: "prod" },
      registeredAt: T0,
      status: "failed",
      statusSince: T0 + 131_000,
      createdAt: T0,
      startedAt: T0 + 2_000,
      failedAt: T0 + 130_000,
      expiresAt: T0 + 600_000,
      progressAt: T0 + 47_000,
      model: "gpt-4o",
      usage: { promptTokens: 1834, completionTokens: 211, totalTokens: 2045 },
      lastError: {
        code: "server_error",
        message: "Tool crm_search failed: 401 from https://crm.contoso.com/api?key=sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 while serving jane.doe@contoso.com",
      },
      steps: [
        {
          id: "step_8ZfTCmkOVvtmzD0P9Uo2Dn8x",
          type: "tool_calls",
          status: "failed",
          createdAt: T0 + 40_000,
          completedAt: T0 + 47_250,
          toolCalls: [{ id: "call_u1Q3ZkL0wq3NYOOgAuSfTb1p", type: "function", name: "crm_search" }],
        },
      ],
      finalMessageId: "msg_WMmJ1Ot0yxbpG6kcG5YO3Ch0",
      episodes: { failed: { episode: 1, active: true, since: T0 + 130_000 } },
      seq: 3,
      terminal: true,
      pendingOutbox: [],
      shard: 7,
      updatedAt: T0 + 131_000,
    },
    transitions: [
      { project: "prod", runId: ref.runId, seq: 1, at: T0 + 1_000, from: null, to: "queued" },
      { project: "prod", runId: ref.runId, seq: 2, at: T0 + 4_000, from: "queued", to: "in_progress" },
      { project: "prod", runId: ref.runId, seq: 3, at: T0 + 131_000, from: "in_progress", to: "failed" },
    ],
    escalations: [
      {
        messageId: `${ref.runId}:failed:1`,
        kind: "escalation",
        ref,
        agentId: "asst_1ldWQqiEfDpLQX2tgMSjgRdd",
        reason: "failed",
        episode: 1,
        severity: "high",
        owner: "payments-team",
        at: T0 + 131_000,
        ruleTrueAt: T0 + 130_000,
        status: "sent",
      },
    ],
    finalMessage: { id: "msg_WMmJ1Ot0yxbpG6kcG5YO3Ch0", role: "assistant", text: "I could not look up the customer record for jane.doe@contoso.com." },
    policy: {},
    links: {
      dashboard: "https://func-runmon-x7k2.azurewebsites.net/dashboard/runs/prod/run_IcGHs5uLnkuryPW7UTB9EUP8",
      api: "https://func-runmon-x7k2.azurewebsites.net/api/runs/prod/run_IcGHs5uLnkuryPW7UTB9EUP8/evidence",
    },
    now: T0 + 132_000,
    ...overrides,
  };
}
