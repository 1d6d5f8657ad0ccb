// v2 background response bodies and conversation items, shaped like ../shared/fixtures/foundry/responses.

import type { Epoch } from "./classic-bodies.js";
import type { RunView } from "./run-view.js";
import { TERMINAL, isVisible } from "./run-view.js";
import type { SimRun } from "./sim-run.js";
import { finalMessageId, functionCallItemId, stepCallId, stepMessageId } from "./sim-run.js";

type Json = Record<string, unknown>;

// The monitor keys runs by the scenario's agentId, so it is the reference's name as given.
const agentRef = (agentId: string): { name: string; version: string } => ({ name: agentId, version: "1" });

/** Output items, oldest first as the Responses API lists them: one per step, plus the final message. */
export function responseOutputItems(run: SimRun, v: RunView): Json[] {
  const ref = agentRef(run.agentId);
  const common = {
    created_by: { agent: { type: "agent_id", ...ref }, response_id: run.runId },
    agent_reference: { type: "agent_reference", ...ref },
    response_id: run.runId,
  };
  const completedWithText = v.status === "completed" && run.finalMessage !== undefined;
  const finalId = finalMessageId(run, v);
  const items: Json[] = v.steps.map((st) => {
    const status = st.step.status === "completed" ? "completed" : st.step.status === "in_progress" ? "in_progress" : "incomplete";
    if (st.step.type === "tool_calls") {
      return { type: "function_call", id: functionCallItemId(run, st), ...common, call_id: stepCallId(run, st), name: st.step.tool ?? "tool", arguments: "{}", status };
    }
    const id = stepMessageId(run, st);
    const text = completedWithText && id === finalId ? run.finalMessage : "";
    return { type: "message", id, ...common, role: "assistant", content: [{ type: "output_text", text, annotations: [], logprobs: [] }], status };
  });
  if (completedWithText && !items.some((i) => i.id === finalId)) {
    items.push({ type: "message", id: finalId, ...common, role: "assistant", content: [{ type: "output_text", text: run.finalMessage, annotations: [], logprobs: [] }], status: "completed" });
  }
  return items;
}

export function responseBody(run: SimRun, v: RunView, epoch: Epoch): Json {
  if (!isVisible(v)) throw new Error(`response ${run.runId} is not visible`);
  const s = v.status;
  const terminal = TERMINAL.has(s);
  const ref = agentRef(run.agentId);
  return {
    metadata: {},
    top_logprobs: 0,
    temperature: 1,
    top_p: 1,
    service_tier: "default",
    model: run.model,
    reasoning: { effort: null, summary: null },
    background: true,
    text: { format: { type: "text" }, verbosity: "medium" },
    tools: [],
    tool_choice: "auto",
    truncation: "disabled",
    id: run.runId,
    object: "response",
    status: s,
    created_at: epoch(v.createdAt),
    completed_at: s === "completed" ? epoch(v.statusSince ?? v.createdAt) : null,
    error: s === "failed" ? (v.lastError ?? { code: "server_error", message: "Sorry, something went wrong." }) : null,
    incomplete_details: s === "incomplete" ? { reason: "max_output_tokens" } : null,
    output: responseOutputItems(run, v),
    instructions: null,
    previous_response_id: null,
    usage:
      terminal && run.usage
        ? {
            input_tokens: run.usage.prompt_tokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: run.usage.completion_tokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: run.usage.total_tokens,
          }
        : null,
    parallel_tool_calls: true,
    conversation: run.threadId ? { id: run.threadId } : null,
    agent: { type: "agent_id", ...ref },
    agent_reference: { type: "agent_reference", ...ref },
  };
}

export function conversationBody(conversationId: string, createdAt: number): Json {
  return { id: conversationId, object: "conversation", created_at: createdAt, metadata: {} };
}
