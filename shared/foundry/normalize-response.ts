// v2 background response bodies (`GET /openai/v1/responses/{id}`) → the monitor's Observation.
// Pure, on the raw wire JSON. v2 has no run steps and no progress timestamps: output items stand in
// for steps and their count/status is the progress marker.

import type { Observation, RunStatus, StepSummary, Usage } from "../model/run.js";
import { assignDefined, incompleteDetails, runError } from "./normalize-classic.js";
import {
  MalformedBodyError,
  isWireObject,
  optionalArray,
  optionalInstant,
  optionalNumber,
  optionalObject,
  optionalString,
  requireInstant,
  requireObject,
  requireString,
  describe,
  type WireObject,
} from "./wire.js";

export { MalformedBodyError } from "./wire.js";

/** The statuses a v2 response can have (there is no requires_action: a function call simply completes the response). */
export const RESPONSE_STATUSES: readonly RunStatus[] = ["queued", "in_progress", "completed", "failed", "cancelling", "cancelled", "incomplete"];

/**
 * Normalizes a response body. `threadId` (the conversation the caller registered) wins over the
 * body's `conversation`, which is absent when the response was created without one.
 */
export function normalizeResponse(body: unknown, project: string, threadId?: string): Observation {
  const response = requireObject(body, "response");
  const id = requireString(response, "id", "response");
  if (response.object !== undefined && response.object !== "response") throw new MalformedBodyError(`response.object: expected "response", got ${describe(response.object)}`);
  const status = response.status;
  if (typeof status !== "string" || !RESPONSE_STATUSES.includes(status as RunStatus)) {
    throw new MalformedBodyError(`response.status: expected one of ${RESPONSE_STATUSES.join("|")}, got ${describe(status)}`);
  }

  const observation: Observation = {
    ref: { project, api: "responses", runId: id, threadId: threadId || conversationId(response) || "" },
    status: status as RunStatus,
    createdAt: requireInstant(response, "created_at", "response"),
  };
  const agent = agentOf(response);
  assignDefined(observation, {
    // The agent name is the v2 agent's stable identity; versions change with every edit.
    agentId: agent?.name,
    agentName: agent?.name,
    agentVersion: agent?.version,
    model: optionalString(response, "model", "response"),
    completedAt: optionalInstant(response, "completed_at", "response"),
    usage: responseUsage(optionalObject(response, "usage", "response")),
    lastError: runError(optionalObject(response, "error", "response"), "response.error"),
    incompleteDetails: incompleteDetails(optionalObject(response, "incomplete_details", "response"), "response.incomplete_details"),
  });
  if (status === "failed" && observation.completedAt !== undefined) {
    // v2 has no failed_at/cancelled_at; the end time is the closest fact the API gives.
    observation.failedAt = observation.completedAt;
    delete observation.completedAt;
  } else if (status === "cancelled" && observation.completedAt !== undefined) {
    observation.cancelledAt = observation.completedAt;
    delete observation.completedAt;
  }

  const steps = normalizeResponseOutput(optionalArray(response, "output", "response") ?? []);
  observation.steps = steps;
  const last = steps[steps.length - 1];
  observation.progressMarker = last ? `${steps.length}:${last.status}` : "0";
  if (status === "completed") {
    const lastMessage = [...steps].reverse().find((s) => s.messageId !== undefined);
    if (lastMessage?.messageId) observation.finalMessageId = lastMessage.messageId;
  }
  return observation;
}

/** Output items (or conversation items) → step summaries; tool call arguments and outputs are dropped. */
export function normalizeResponseOutput(items: unknown[]): StepSummary[] {
  return items.map((item, i) => {
    const what = `response.output[${i}]`;
    const o = requireObject(item, what);
    const type = requireString(o, "type", what);
    const step: StepSummary = {
      id: requireString(o, "id", what),
      type,
      // Some item kinds (function_call_output) carry no status; say so rather than guess one.
      status: optionalString(o, "status", what) ?? "unknown",
      toolCalls: [],
    };
    if (type === "message") step.messageId = step.id;
    else if (type.endsWith("_call")) {
      const name = optionalString(o, "name", what) ?? optionalString(o, "server_label", what);
      const call: StepSummary["toolCalls"][number] = { id: optionalString(o, "call_id", what) ?? step.id, type: type === "function_call" ? "function" : type.slice(0, -"_call".length) };
      if (name) call.name = name;
      step.toolCalls = [call];
    }
    return step;
  });
}

/** The final assistant message of a response body: its last output message, text parts joined. */
export function pickResponseFinalMessage(body: unknown): { id: string; role: string; text: string } | undefined {
  const response = requireObject(body, "response");
  const messages = (optionalArray(response, "output", "response") ?? []).filter((i): i is WireObject => isWireObject(i) && i.type === "message");
  const last = messages[messages.length - 1];
  if (!last) return undefined;
  const parts = optionalArray(last, "content", "message") ?? [];
  const text = parts
    .map((p) => (isWireObject(p) && (p.type === "output_text" || p.type === "text") && typeof p.text === "string" ? p.text : ""))
    .filter((t) => t !== "")
    .join("\n");
  return { id: requireString(last, "id", "message"), role: optionalString(last, "role", "message") ?? "assistant", text };
}

function conversationId(response: WireObject): string | undefined {
  const c = response.conversation;
  if (typeof c === "string") return c;
  if (isWireObject(c) && typeof c.id === "string") return c.id;
  return undefined;
}

function agentOf(response: WireObject): { name?: string; version?: string } | undefined {
  const a = optionalObject(response, "agent", "response") ?? optionalObject(response, "agent_reference", "response");
  if (!a) return undefined;
  return { name: optionalString(a, "name", "response.agent"), version: optionalString(a, "version", "response.agent") };
}

function responseUsage(u: WireObject | undefined): Usage | undefined {
  if (!u) return undefined;
  return {
    promptTokens: optionalNumber(u, "input_tokens", "response.usage") ?? 0,
    completionTokens: optionalNumber(u, "output_tokens", "response.usage") ?? 0,
    totalTokens: optionalNumber(u, "total_tokens", "response.usage") ?? 0,
  };
}
