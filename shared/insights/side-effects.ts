// Partial side effects: a run that failed, expired or was cancelled after a tool that changes a
// downstream system completed may have left half a job done. Support must check that system first,
// so the escalation says so (and names the calls: name, time, status — never arguments).
import type { EscalationReason, Severity, StepSummary } from "../model/run.js";
import type { EffectivePolicy } from "../detect/policy-types.js";
import type { SideEffectCall } from "../store/types.js";

const PARTIAL_REASONS: ReadonlySet<EscalationReason> = new Set(["failed", "expired", "cancelled"]);
const SEVERITIES: Severity[] = ["low", "medium", "high", "critical"];

export const raiseSeverity = (s: Severity): Severity => SEVERITIES[Math.min(SEVERITIES.length - 1, SEVERITIES.indexOf(s) + 1)];

/** The completed calls of side-effecting tools among `steps` (oldest first). */
export function completedSideEffectCalls(steps: StepSummary[] | undefined, sideEffectTools: readonly string[] | undefined): SideEffectCall[] {
  if (!steps?.length || !sideEffectTools?.length) return [];
  const tools = new Set(sideEffectTools);
  const calls: SideEffectCall[] = [];
  for (const step of [...steps].sort((a, b) => (a.completedAt ?? a.createdAt ?? 0) - (b.completedAt ?? b.createdAt ?? 0))) {
    if (step.status !== "completed") continue;
    for (const call of step.toolCalls) {
      if (call.name && tools.has(call.name)) calls.push({ name: call.name, status: step.status, stepId: step.id, ...(step.completedAt !== undefined ? { at: step.completedAt } : {}) });
    }
  }
  return calls;
}

/**
 * Fields an escalation gains when it is a partial-side-effect case: the flag, the calls and the
 * raised severity. Empty when the policy names no side-effecting tools or none completed.
 */
export function partialSideEffectFields(
  reason: EscalationReason,
  steps: StepSummary[] | undefined,
  policy: EffectivePolicy,
): { partialSideEffects?: true; sideEffectCalls?: SideEffectCall[]; severity?: Severity } {
  if (!PARTIAL_REASONS.has(reason)) return {};
  const calls = completedSideEffectCalls(steps, policy.insights?.sideEffectTools);
  if (!calls.length) return {};
  const severity = policy.insights?.partialSideEffectSeverity ?? raiseSeverity(policy.severity);
  return { partialSideEffects: true, sideEffectCalls: calls, severity };
}

/** Whether a decision should read the run's steps before it is written: it ends the run in a partial-side-effect reason under a policy that names side-effecting tools. */
export function needsStepsForSideEffects(reasons: EscalationReason[], policy: EffectivePolicy): boolean {
  return !!policy.insights?.sideEffectTools?.length && reasons.some((r) => PARTIAL_REASONS.has(r));
}
