import type { EscalationCloudEvent } from "../bus/cloud-event.js";
import type { EscalationReason } from "../model/run.js";
import { ESCALATION_REASONS } from "../model/run.js";
import type { OutboxItem, OutboxRemediation } from "../store/types.js";

/** The outbox row a received escalation event stands for (what the ticket handler works from). */
export function outboxItemOf(event: EscalationCloudEvent): OutboxItem {
  const d = event.data;
  if (!(ESCALATION_REASONS as readonly string[]).includes(d.reason)) throw new Error(`escalation event ${event.id}: unknown reason ${JSON.stringify(d.reason)}`);
  return {
    messageId: event.id,
    kind: d.kind,
    ref: { project: d.project, api: d.api, runId: d.runId, threadId: d.threadId },
    agentId: d.agentId,
    reason: d.reason as EscalationReason,
    episode: d.episode,
    severity: d.severity,
    owner: d.owner,
    at: Date.parse(d.at),
    ruleTrueAt: d.ruleTrueAt ? Date.parse(d.ruleTrueAt) : undefined,
    traceparent: event.traceparent,
    partialSideEffects: d.partialSideEffects,
    sideEffectCalls: d.sideEffectCalls?.map((c) => ({ name: c.name, status: c.status, stepId: c.stepId, at: c.at ? Date.parse(c.at) : undefined })),
    remediation: d.remediation ? remediationOf(d.remediation) : undefined,
    status: "sent",
  };
}

function remediationOf(r: NonNullable<EscalationCloudEvent["data"]["remediation"]>): OutboxRemediation {
  const { at, ...rest } = r;
  return { ...rest, ...(at ? { at: Date.parse(at) } : {}) };
}
