// Pure: which opt-in remediation a committed decision calls for. Off unless the run's policy turns
// it on (insights.remediation.cancelStuck / retryFailed). Classic runs only: the v2 responses API
// has no thread to retry on.
import type { EscalationReason, StepSummary } from "../model/run.js";
import type { EffectivePolicy } from "../detect/policy-types.js";
import { MAX_STEPS_KEPT } from "../store/store-rules.js";
import type { OutboxRemediation, RunHead } from "../store/types.js";
import type { RemediationPlan } from "./types.js";

/** Tags a retry run is registered with, so its own failure continues the same lineage. */
export const RETRY_OF_TAG = "remediation.retryOf";
export const RETRY_ATTEMPT_TAG = "remediation.attempt";
export const DEFAULT_MAX_RETRIES = 1;

/** A thread with a run stuck here accepts no new run: cancelling frees it. */
const CANCEL_REASONS: ReadonlySet<EscalationReason> = new Set(["stalled-requires-action", "stalled-queued"]);

/** Tool names a run called, from its steps (undefined when its steps are unknown or may have been cut to the newest MAX_STEPS_KEPT). */
export function toolsCalled(steps: StepSummary[] | undefined): string[] | undefined {
  if (!steps || steps.length >= MAX_STEPS_KEPT) return undefined;
  return [...new Set(steps.flatMap((s) => s.toolCalls.map((c) => c.name ?? c.type)))];
}

export function planRemediation(head: RunHead, escalations: { reason: EscalationReason }[], policy: EffectivePolicy, steps: StepSummary[] | undefined): RemediationPlan[] {
  const settings = policy.insights?.remediation;
  if (!settings || head.ref.api !== "classic") return [];
  const plans: RemediationPlan[] = [];
  const stuck = escalations.find((e) => CANCEL_REASONS.has(e.reason));
  if (settings.cancelStuck && stuck) plans.push({ action: "cancel", ref: head.ref, rootRunId: head.ref.runId, attempt: 1, because: stuck.reason });
  if (settings.retryFailed && head.agentId && escalations.some((e) => e.reason === "failed")) {
    const tools = toolsCalled(steps);
    const readOnly = new Set(policy.insights?.readOnlyTools ?? []);
    const attempt = (Number.parseInt(head.tags[RETRY_ATTEMPT_TAG] ?? "0", 10) || 0) + 1;
    const max = settings.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (tools && tools.every((t) => readOnly.has(t)) && attempt <= max) {
      plans.push({ action: "retry", ref: head.ref, rootRunId: head.tags[RETRY_OF_TAG] ?? head.ref.runId, attempt, agentId: head.agentId, because: "failed" });
    }
  }
  return plans;
}

/**
 * The remediation one escalation calls for, as its outbox row records it (the plan, no outcome yet).
 * Deciding at commit time puts the plan in the same transaction as the escalation: a crash after
 * the commit cannot lose it, and the publisher carries it out (publish.ts → outbox.ts).
 */
export function remediationFor(head: RunHead, reason: EscalationReason, policy: EffectivePolicy): { remediation?: OutboxRemediation } {
  const [plan] = planRemediation(head, [{ reason }], policy, head.steps);
  if (!plan) return {};
  return { remediation: { action: plan.action, rootRunId: plan.rootRunId, attempt: plan.attempt, ...(plan.agentId ? { agentId: plan.agentId } : {}) } };
}

/** Whether a decision ending in these reasons needs the run's steps to plan a retry (every tool called must be read-only). */
export function needsStepsForRetry(head: RunHead, reasons: EscalationReason[], policy: EffectivePolicy): boolean {
  return !!policy.insights?.remediation?.retryFailed && head.ref.api === "classic" && reasons.includes("failed");
}
