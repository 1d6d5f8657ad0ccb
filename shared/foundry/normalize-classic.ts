// Classic (threads/runs) wire bodies → the monitor's Observation. Pure: the SDK adapter, the
// in-process simulator and the tests all feed the raw JSON the REST API sends.

import { isRunStatus, type Instant, type Observation, type PendingToolCall, type RunError, type StepSummary, type Usage } from "../model/run.js";
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

/**
 * Normalizes a classic run body (`GET /threads/{t}/runs/{r}`). With `steps` (a steps list body or
 * its `data` items), also reports steps, the latest progress time and a progress marker.
 */
export function normalizeClassicRun(body: unknown, project: string, steps?: unknown): Observation {
  const run = requireObject(body, "run");
  const id = requireString(run, "id", "run");
  if (run.object !== undefined && run.object !== "thread.run") throw new MalformedBodyError(`run.object: expected "thread.run", got ${describe(run.object)}`);
  const status = run.status;
  if (!isRunStatus(status)) throw new MalformedBodyError(`run.status: expected a run status, got ${describe(status)}`);

  const observation: Observation = {
    ref: { project, api: "classic", runId: id, threadId: optionalString(run, "thread_id", "run") ?? "" },
    status,
    createdAt: requireInstant(run, "created_at", "run"),
  };
  assignDefined(observation, {
    agentId: optionalString(run, "assistant_id", "run"),
    model: optionalString(run, "model", "run"),
    startedAt: optionalInstant(run, "started_at", "run"),
    completedAt: optionalInstant(run, "completed_at", "run"),
    failedAt: optionalInstant(run, "failed_at", "run"),
    cancelledAt: optionalInstant(run, "cancelled_at", "run"),
    expiresAt: optionalInstant(run, "expires_at", "run"),
    usage: classicUsage(optionalObject(run, "usage", "run")),
    lastError: runError(optionalObject(run, "last_error", "run"), "run.last_error"),
    incompleteDetails: incompleteDetails(optionalObject(run, "incomplete_details", "run"), "run.incomplete_details"),
  });

  const action = optionalObject(run, "required_action", "run");
  if (action) {
    const submit = optionalObject(action, "submit_tool_outputs", "run.required_action");
    const calls = (submit && optionalArray(submit, "tool_calls", "run.required_action.submit_tool_outputs")) ?? [];
    observation.requiredAction = { toolCalls: calls.map((c, i) => toolCall(c, `run.required_action.submit_tool_outputs.tool_calls[${i}]`)) };
    if (observation.expiresAt !== undefined) observation.requiredAction.expiresAt = observation.expiresAt;
  }

  if (steps !== undefined) {
    const summaries = normalizeClassicSteps(steps);
    observation.steps = summaries;
    Object.assign(observation, progressOf(summaries));
    if (status === "completed") {
      const lastMessage = [...summaries].reverse().find((s) => s.messageId !== undefined);
      if (lastMessage?.messageId) observation.finalMessageId = lastMessage.messageId;
    }
  }
  return observation;
}

/**
 * Normalizes a steps list body (`{object:"list", data:[…]}`), its items, or one step. Returns steps
 * oldest first (the API lists newest first by default). Tool call arguments and outputs are dropped here.
 */
export function normalizeClassicSteps(listBodyOrItems: unknown): StepSummary[] {
  let items: unknown[];
  if (Array.isArray(listBodyOrItems)) items = listBodyOrItems;
  else {
    const o = requireObject(listBodyOrItems, "steps");
    if (o.object === "thread.run.step") items = [o];
    else items = optionalArray(o, "data", "steps") ?? missing("steps.data");
  }
  const steps = items.map((item, i) => classicStep(item, `steps[${i}]`));
  // Stable: equal times keep the API's order.
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (a.s.createdAt ?? 0) - (b.s.createdAt ?? 0) || a.i - b.i)
    .map(({ s }) => s);
}

/** Latest progress the API reports and an opaque marker that changes when steps change. */
export function progressOf(steps: StepSummary[]): { lastProgressAt?: Instant; progressMarker: string } {
  const times = steps.flatMap((s) => [s.createdAt, s.completedAt]).filter((t): t is Instant => t !== undefined);
  const newest = steps.reduce<StepSummary | undefined>((n, s) => (!n || (s.createdAt ?? 0) >= (n.createdAt ?? 0) ? s : n), undefined);
  const marker = newest ? `${steps.length}:${newest.id}:${newest.status}` : "0";
  return times.length ? { lastProgressAt: Math.max(...times), progressMarker: marker } : { progressMarker: marker };
}

/** Text of a classic message (`thread.message`): its text content parts joined. */
export function classicMessageText(message: WireObject): string {
  const parts = optionalArray(message, "content", "message") ?? [];
  return parts
    .map((p) => (isWireObject(p) && p.type === "text" && isWireObject(p.text) && typeof p.text.value === "string" ? p.text.value : ""))
    .filter((t) => t !== "")
    .join("\n");
}

/**
 * Picks a run's final assistant message from a messages list body (`GET /threads/{t}/messages`):
 * the message with `preferredId` if given, else the newest assistant message of the run.
 */
export function pickClassicFinalMessage(listBody: unknown, runId: string, preferredId?: string): { id: string; role: string; text: string } | undefined {
  const list = requireObject(listBody, "messages");
  const messages = (optionalArray(list, "data", "messages") ?? missing("messages.data")).map((m, i) => requireObject(m, `messages[${i}]`));
  const byId = preferredId ? messages.find((m) => m.id === preferredId) : undefined;
  const chosen =
    byId ??
    messages
      .filter((m) => m.role === "assistant" && (m.run_id === runId || m.run_id === undefined))
      .sort((a, b) => (optionalNumber(b, "created_at", "message") ?? 0) - (optionalNumber(a, "created_at", "message") ?? 0))[0];
  if (!chosen) return undefined;
  return { id: requireString(chosen, "id", "message"), role: requireString(chosen, "role", "message"), text: classicMessageText(chosen) };
}

function classicStep(item: unknown, what: string): StepSummary {
  const step = requireObject(item, what);
  const summary: StepSummary = {
    id: requireString(step, "id", what),
    type: requireString(step, "type", what),
    status: requireString(step, "status", what),
    toolCalls: [],
  };
  assignDefined(summary, {
    createdAt: optionalInstant(step, "created_at", what),
    completedAt: optionalInstant(step, "completed_at", what),
  });
  const details = optionalObject(step, "step_details", what);
  if (details) {
    const calls = optionalArray(details, "tool_calls", `${what}.step_details`) ?? [];
    summary.toolCalls = calls.map((c, i) => toolCall(c, `${what}.step_details.tool_calls[${i}]`));
    const creation = optionalObject(details, "message_creation", `${what}.step_details`);
    const messageId = creation && optionalString(creation, "message_id", `${what}.step_details.message_creation`);
    if (messageId) summary.messageId = messageId;
  }
  return summary;
}

/** A tool call reduced to id, type and name: the name sits under the call's type (`function.name`, `azure_function.name`). */
function toolCall(item: unknown, what: string): PendingToolCall {
  const call = requireObject(item, what);
  const type = requireString(call, "type", what);
  const call_: PendingToolCall = { id: requireString(call, "id", what), type };
  const inner = isWireObject(call[type]) ? (call[type] as WireObject) : undefined;
  const name = inner && typeof inner.name === "string" ? inner.name : typeof call.name === "string" ? call.name : undefined;
  if (name) call_.name = name;
  return call_;
}

function classicUsage(u: WireObject | undefined): Usage | undefined {
  if (!u) return undefined;
  return {
    promptTokens: optionalNumber(u, "prompt_tokens", "run.usage") ?? 0,
    completionTokens: optionalNumber(u, "completion_tokens", "run.usage") ?? 0,
    totalTokens: optionalNumber(u, "total_tokens", "run.usage") ?? 0,
  };
}

export function runError(e: WireObject | undefined, what: string): RunError | undefined {
  if (!e) return undefined;
  return { code: optionalString(e, "code", what) ?? "", message: optionalString(e, "message", what) ?? "" };
}

export function incompleteDetails(d: WireObject | undefined, what: string): { reason: string } | undefined {
  if (!d) return undefined;
  return { reason: optionalString(d, "reason", what) ?? "" };
}

function missing(what: string): never {
  throw new MalformedBodyError(`${what}: is required`);
}

/** Copies only the defined values, so observations compare equal regardless of absent fields. */
export function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [k, v] of Object.entries(values)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
}
