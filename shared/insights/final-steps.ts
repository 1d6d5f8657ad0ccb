// One extra Foundry read, only for runs whose escalation must know every step: a run that ends in a
// partial-side-effect reason under a policy naming side-effecting tools (the escalation lists the
// side-effecting calls that completed), or a failed run under a policy that retries failed runs
// (a retry is planned only when every tool the run called is read-only). The poller skips steps of
// finished runs, so without this read both would be judged on the steps it happened to see.
import type { Decision } from "../detect/detect.js";
import type { EffectivePolicy } from "../detect/policy-types.js";
import type { RunSource } from "../foundry/run-source.js";
import { needsStepsForRetry } from "../remediation/decide.js";
import { MAX_STEPS_KEPT } from "../store/store-rules.js";
import { needsStepsForSideEffects } from "./side-effects.js";

/** The decision with the run's steps on its head when side effects or a retry must be judged; unchanged otherwise or when the read fails. */
export async function withFinalSteps(source: RunSource, decision: Decision, policy: EffectivePolicy): Promise<Decision> {
  if (!decision.changed) return decision;
  const reasons = decision.escalations.map((e) => e.reason);
  if (!needsStepsForSideEffects(reasons, policy) && !needsStepsForRetry(decision.head, reasons, policy)) return decision;
  try {
    const steps = await source.listSteps(decision.head.ref);
    // An empty answer is knowledge too (no tool called) unless the poller already saw steps.
    return steps.length || !decision.head.steps ? { ...decision, head: { ...decision.head, steps: steps.slice(-MAX_STEPS_KEPT) } } : decision;
  } catch {
    // Expected trouble (throttled, 5xx): the escalation goes out on the steps already known (a
    // retry is then not planned: with its steps unknown the run may have called a writing tool).
    return decision;
  }
}
