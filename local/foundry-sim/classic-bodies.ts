// Classic (threads/runs) response bodies, shaped like the recordings in ../shared/fixtures/foundry/classic.

import type { RunView, StepView } from "./run-view.js";
import { TERMINAL, isVisible } from "./run-view.js";
import type { SimRun } from "./sim-run.js";
import { finalMessageId, pendingToolCalls, stepCallId, stepId, stepMessageId } from "./sim-run.js";

export type Epoch = (at: number) => number;
type Json = Record<string, unknown>;

// Without an explicit expiresAt Foundry still reports one; the recordings show created_at + 600
// (queued), + 1800 (deep research) and + 36000 (function tools). The longest is used so a monitor
// never sees an expiry the scenario did not ask for.
const DEFAULT_EXPIRY_SECONDS = 36000;

export function classicRunBody(run: SimRun, v: RunView, epoch: Epoch): Json {
  if (!isVisible(v)) throw new Error(`run ${run.runId} is not visible`);
  const s = v.status;
  const terminal = TERMINAL.has(s);
  const since = epoch(v.statusSince ?? v.createdAt);
  let expiresAt: number | null = null;
  if (!terminal) expiresAt = epoch(v.expiresAt ?? v.createdAt + DEFAULT_EXPIRY_SECONDS);
  else if (s === "expired") expiresAt = v.expiresAt !== undefined ? epoch(v.expiresAt) : since;
  return {
    id: run.runId,
    object: "thread.run",
    created_at: epoch(v.createdAt),
    assistant_id: run.agentId,
    thread_id: run.threadId,
    status: s,
    started_at: v.startedAt !== undefined ? epoch(v.startedAt) : null,
    expires_at: expiresAt,
    cancelled_at: s === "cancelled" ? since : null,
    failed_at: s === "failed" ? since : null,
    completed_at: s === "completed" || s === "incomplete" ? since : null,
    required_action:
      s === "requires_action"
        ? {
            type: "submit_tool_outputs",
            submit_tool_outputs: {
              tool_calls: pendingToolCalls(run, v).map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: "{}" } })),
            },
          }
        : null,
    last_error: s === "failed" ? (v.lastError ?? { code: "server_error", message: "Sorry, something went wrong." }) : null,
    model: run.model,
    instructions: "",
    tools: [],
    tool_resources: {},
    metadata: {},
    temperature: 1.0,
    top_p: 1.0,
    max_completion_tokens: null,
    max_prompt_tokens: null,
    truncation_strategy: { type: "auto", last_messages: null },
    incomplete_details: s === "incomplete" ? { reason: "max_completion_tokens" } : null,
    usage: terminal && run.usage ? { ...run.usage, prompt_token_details: { cached_tokens: 0 } } : null,
    response_format: "auto",
    tool_choice: "auto",
    parallel_tool_calls: true,
  };
}

export function classicStepBody(run: SimRun, st: StepView, epoch: Epoch): Json {
  const { type, tool, status } = st.step;
  const at = epoch(st.at);
  const done = status === "completed";
  return {
    id: stepId(run, st),
    object: "thread.run.step",
    created_at: at,
    run_id: run.runId,
    assistant_id: run.agentId,
    thread_id: run.threadId,
    type,
    status,
    cancelled_at: status === "cancelled" ? at : null,
    completed_at: done ? at : null,
    expires_at: null,
    expired_at: status === "expired" ? at : null,
    failed_at: status === "failed" ? at : null,
    last_error: status === "failed" ? { code: "server_error", message: "The tool call failed." } : null,
    step_details:
      type === "tool_calls"
        ? {
            type: "tool_calls",
            tool_calls: [{ id: stepCallId(run, st), type: "function", function: { name: tool ?? "tool", arguments: "{}", output: done ? "ok" : null } }],
          }
        : { type: "message_creation", message_creation: { message_id: stepMessageId(run, st) } },
    usage: null,
    metadata: {},
  };
}

/** The assistant message a completed run leaves on its thread, when the scenario gives its text. */
export function classicFinalMessage(run: SimRun, v: RunView, epoch: Epoch): Json | undefined {
  if (!isVisible(v) || v.status !== "completed" || run.finalMessage === undefined) return undefined;
  return {
    id: finalMessageId(run, v),
    object: "thread.message",
    created_at: epoch(v.statusSince ?? v.createdAt),
    assistant_id: run.agentId,
    thread_id: run.threadId,
    run_id: run.runId,
    role: "assistant",
    content: [{ type: "text", text: { value: run.finalMessage, annotations: [] } }],
    attachments: [],
    metadata: {},
  };
}

export function assistantBody(agentId: string, model: string, createdAt: number): Json {
  return {
    id: agentId,
    object: "assistant",
    created_at: createdAt,
    name: agentId,
    description: null,
    model,
    instructions: "",
    tools: [],
    top_p: 1.0,
    temperature: 1.0,
    tool_resources: {},
    metadata: {},
    response_format: "auto",
  };
}

export function threadBody(threadId: string, createdAt: number): Json {
  return { id: threadId, object: "thread", created_at: createdAt, metadata: {}, tool_resources: {} };
}
