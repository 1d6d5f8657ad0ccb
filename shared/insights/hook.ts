// The tracking core's onCommitted hook: counts what a committed decision adds to the daily buckets,
// and reports each tool call it counts as a metric. Called after the commit, so everything here is
// idempotent (markers): a redelivered poll or a racing poller counts — and reports — nothing twice.
// (Remediation is not done here: it rides on the escalation's outbox row, see shared/remediation/outbox.ts.)
import type { Decision } from "../detect/detect.js";
import type { RunSource } from "../foundry/run-source.js";
import type { StepSummary } from "../model/run.js";
import type { RunHead } from "../store/types.js";
import type { Metrics } from "../tracking/deps.js";
import { runContributions, toolContributions } from "./aggregate.js";
import type { InsightsStore } from "./store.js";
import type { Contribution } from "./types.js";

export interface InsightsHookOptions {
  store: InsightsStore;
  /** Reads a finished run's steps once for tool insights; without it only steps the poller saw count. */
  source?: Pick<RunSource, "listSteps">;
  /** Where counted tool calls are reported (ToolCalls, ToolCallDurationMs); optional. */
  metrics?: Pick<Metrics, "toolCall">;
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
      for (const c of contributions) {
        if ((await options.store.apply(c)) === "counted") report(options.metrics, c);
      }
    } catch (e) {
      // Insights must never cost a poll; the next commit of the run (or nothing) carries on.
      log(`insights: run ${head.ref.runId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

function report(metrics: InsightsHookOptions["metrics"], c: Contribution): void {
  if (!metrics?.toolCall || c.delta.kind !== "tools" || c.empty.kind !== "tools") return;
  const { project, agentId, tool } = c.empty;
  metrics.toolCall({ project, agentId, tool, status: c.delta.call.status, durationMs: c.delta.durationMs });
}

async function stepsOf(options: InsightsHookOptions, head: RunHead): Promise<StepSummary[] | undefined> {
  if (!head.terminal || !options.source || head.vanished) return head.steps;
  try {
    return await options.source.listSteps(head.ref);
  } catch {
    return head.steps;
  }
}
