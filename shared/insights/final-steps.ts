// One extra Foundry read, only for runs that end in a partial-side-effect reason under a policy
// that names side-effecting tools: the poller skips steps of finished runs, and the escalation
// must list the side-effecting calls that completed.
import type { Decision } from "../detect/detect.js";
import type { EffectivePolicy } from "../detect/policy-types.js";
import type { RunSource } from "../foundry/run-source.js";
import { needsStepsForSideEffects } from "./side-effects.js";

const MAX_STEPS_KEPT = 50;

/** The decision with the run's steps on its head when side effects must be judged; unchanged otherwise or when the read fails. */
export async function withFinalSteps(source: RunSource, decision: Decision, policy: EffectivePolicy): Promise<Decision> {
  if (!decision.changed || !needsStepsForSideEffects(decision.escalations.map((e) => e.reason), policy)) return decision;
  try {
    const steps = await source.listSteps(decision.head.ref);
    return steps.length ? { ...decision, head: { ...decision.head, steps: steps.slice(-MAX_STEPS_KEPT) } } : decision;
  } catch {
    // Expected trouble (throttled, 5xx): the escalation goes out on the steps already known.
    return decision;
  }
}
