// The tracking core's onCommitted hook: counts what a committed decision adds to the daily buckets
// and, where a policy opted in, carries out remediation. Called after the commit, so everything
// here is idempotent (markers, ledger rows): a redelivered poll or a racing poller counts nothing twice.
import type { Decision } from "../detect/detect.js";
import { resolvePolicy } from "../detect/policy.js";
import type { PolicySet } from "../detect/policy-types.js";
import type { RunSource } from "../foundry/run-source.js";
import type { StepSummary } from "../model/run.js";
import { planRemediation } from "../remediation/decide.js";
import { executeRemediation, type RemediationExecutorDeps } from "../remediation/execute.js";
import type { RunHead } from "../store/types.js";
import { runContributions, toolContributions } from "./aggregate.js";
import type { InsightsStore } from "./store.js";

export interface InsightsHookOptions {
  store: InsightsStore;
  policies: PolicySet;
  /** Reads a finished run's steps once for tool insights; without it only steps the poller saw count. */
  source?: Pick<RunSource, "listSteps">;
  /** Present only when remediation is configured; policies must still opt in per run. */
  remediation?: RemediationExecutorDeps;
  log?: (line: string) => void;
}

export type CommittedHook = (decision: Decision, head: RunHead) => Promise<void>;

export function insightsHook(options: InsightsHookOptions): CommittedHook {
  const log = options.log ?? (() => {});
  return async (decision, head) => {
    try {
      const steps = await stepsOf(options, head);
      const contributions = [
        ...runContributions({ head, transitions: decision.transitions, escalations: decision.escalations, at: head.updatedAt }),
        ...(steps ? toolContributions(head, steps, head.updatedAt) : []),
      ];
      for (const c of contributions) await options.store.apply(c);
      if (!options.remediation) return;
      const policy = resolvePolicy(options.policies, { project: head.ref.project, api: head.ref.api, agentId: head.agentId, threadId: head.ref.threadId, tags: head.tags });
      for (const plan of planRemediation(head, decision.escalations, policy, steps)) await executeRemediation(options.remediation, plan);
    } catch (e) {
      // Insights must never cost a poll; the next commit of the run (or nothing) carries on.
      log(`insights: run ${head.ref.runId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

async function stepsOf(options: InsightsHookOptions, head: RunHead): Promise<StepSummary[] | undefined> {
  if (!head.terminal || !options.source || head.vanished) return head.steps;
  try {
    return await options.source.listSteps(head.ref);
  } catch {
    return head.steps;
  }
}
