// The publisher's side of remediation: an escalation's outbox row names the action (decided in the
// same transaction as the escalation), and it is carried out here, once per ledger row, before the
// row is sent. Until the row is marked sent, every publish pass comes back to it — so a process
// killed anywhere between the commit and the publish still gets the action done, exactly once.
import type { OutboxItem } from "../store/types.js";
import { executeRemediation, type RemediationExecutorDeps } from "./execute.js";
import type { RemediationPlan } from "./types.js";

/** The row with the action's outcome, or undefined while the ledger row is held by a live (or not yet stale) executor. */
export async function remediateOutboxItem(deps: RemediationExecutorDeps, item: OutboxItem): Promise<OutboxItem | undefined> {
  const r = item.remediation;
  if (!r || item.kind !== "escalation" || item.ref.api !== "classic") return item;
  const plan: RemediationPlan = { action: r.action, ref: item.ref, rootRunId: r.rootRunId, attempt: r.attempt, ...(r.agentId ? { agentId: r.agentId } : {}), because: item.reason };
  const record = await executeRemediation(deps, plan);
  if (record.state === "started") return undefined;
  return {
    ...item,
    remediation: {
      ...r,
      state: record.state,
      ...(record.finishedAt !== undefined ? { at: record.finishedAt } : {}),
      ...(record.newRunId ? { newRunId: record.newRunId } : {}),
      ...(record.detail ? { detail: record.detail } : {}),
    },
  };
}
