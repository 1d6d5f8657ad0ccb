// The escalation message: a CloudEvents 1.0 envelope in structured JSON mode, carried as a
// Service Bus message whose application properties repeat what subscriptions filter on
// (severity, reason, owner…) so a filter never has to parse the body.
import type { ServiceBusMessage } from "@azure/service-bus";
import { z } from "zod";
import type { OutboxItem } from "../store/types.js";

export const ESCALATED_EVENT_TYPE = "com.contoso.foundry-run-monitor.run.escalated";
export const RECOVERED_EVENT_TYPE = "com.contoso.foundry-run-monitor.run.recovered";
export const CLOUD_EVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";

export const EscalationEventData = z.object({
  runId: z.string(),
  threadId: z.string(),
  agentId: z.string().optional(),
  project: z.string(),
  api: z.enum(["classic", "responses"]),
  reason: z.string(),
  episode: z.number().int().positive(),
  severity: z.enum(["low", "medium", "high", "critical"]),
  owner: z.string(),
  kind: z.enum(["escalation", "recovered"]),
  /** ISO time of the poll that decided it. */
  at: z.string(),
  /** ISO time the rule became true (detection latency = at − ruleTrueAt). */
  ruleTrueAt: z.string().optional(),
  /** The run failed, expired or was cancelled after a side-effecting tool call completed. */
  partialSideEffects: z.boolean().optional(),
  /** Those calls (name, time, status; never arguments). */
  sideEffectCalls: z.array(z.object({ name: z.string(), at: z.string().optional(), status: z.string(), stepId: z.string() })).optional(),
  /** Opt-in remediation the monitor carried out before publishing (cancel of a stuck run, retry of a failed one). */
  remediation: z
    .object({
      action: z.enum(["cancel", "retry"]),
      rootRunId: z.string(),
      attempt: z.number().int().positive(),
      agentId: z.string().optional(),
      state: z.enum(["done", "refused", "failed"]).optional(),
      at: z.string().optional(),
      newRunId: z.string().optional(),
      detail: z.string().optional(),
    })
    .optional(),
});
export type EscalationEventData = z.infer<typeof EscalationEventData>;

export const EscalationCloudEvent = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.enum([ESCALATED_EVENT_TYPE, RECOVERED_EVENT_TYPE]),
  subject: z.string(),
  time: z.string(),
  datacontenttype: z.literal("application/json"),
  /** CloudEvents distributed-tracing extension. */
  traceparent: z.string().optional(),
  data: EscalationEventData,
});
export type EscalationCloudEvent = z.infer<typeof EscalationCloudEvent>;

export const eventSource = (project: string): string => `/foundry-run-monitor/${project}`;

const iso = (ms: number): string => new Date(ms).toISOString();

export function toCloudEvent(item: OutboxItem): EscalationCloudEvent {
  const data: EscalationEventData = {
    runId: item.ref.runId,
    threadId: item.ref.threadId,
    ...(item.agentId !== undefined ? { agentId: item.agentId } : {}),
    project: item.ref.project,
    api: item.ref.api,
    reason: item.reason,
    episode: item.episode,
    severity: item.severity,
    owner: item.owner,
    kind: item.kind,
    at: iso(item.at),
    ...(item.ruleTrueAt !== undefined ? { ruleTrueAt: iso(item.ruleTrueAt) } : {}),
    ...(item.partialSideEffects ? { partialSideEffects: true } : {}),
    ...(item.sideEffectCalls?.length ? { sideEffectCalls: item.sideEffectCalls.map((c) => ({ name: c.name, status: c.status, stepId: c.stepId, ...(c.at !== undefined ? { at: iso(c.at) } : {}) })) } : {}),
    ...(item.remediation ? { remediation: remediationData(item.remediation) } : {}),
  };
  return {
    specversion: "1.0",
    id: item.messageId,
    source: eventSource(item.ref.project),
    type: item.kind === "recovered" ? RECOVERED_EVENT_TYPE : ESCALATED_EVENT_TYPE,
    subject: item.ref.runId,
    time: iso(item.at),
    datacontenttype: "application/json",
    ...(item.traceparent ? { traceparent: item.traceparent } : {}),
    data,
  };
}

function remediationData(r: NonNullable<OutboxItem["remediation"]>): NonNullable<EscalationEventData["remediation"]> {
  const { at, ...rest } = r;
  return { ...rest, ...(at !== undefined ? { at: iso(at) } : {}) };
}

/**
 * The Service Bus message for one outbox row. messageId = the outbox messageId, so the topic's
 * duplicate detection drops a re-publish after a crash between "sent" and "marked sent".
 */
export function toServiceBusMessage(item: OutboxItem): ServiceBusMessage {
  const event = toCloudEvent(item);
  const properties: Record<string, string | number> = {
    kind: item.kind,
    reason: item.reason,
    severity: item.severity,
    owner: item.owner,
    project: item.ref.project,
    api: item.ref.api,
    runId: item.ref.runId,
    episode: item.episode,
    "cloudEvents:specversion": event.specversion,
    "cloudEvents:id": event.id,
    "cloudEvents:source": event.source,
    "cloudEvents:type": event.type,
    "cloudEvents:subject": event.subject,
    "cloudEvents:time": event.time,
  };
  if (item.agentId !== undefined) properties.agentId = item.agentId;
  if (item.partialSideEffects) properties.partialSideEffects = "true";
  if (item.traceparent) {
    // Diagnostic-Id is what the Service Bus SDKs and the Functions host read; traceparent is W3C.
    properties["Diagnostic-Id"] = item.traceparent;
    properties.traceparent = item.traceparent;
  }
  return {
    messageId: item.messageId,
    contentType: CLOUD_EVENTS_CONTENT_TYPE,
    subject: event.type,
    correlationId: item.ref.runId,
    body: event,
    applicationProperties: properties,
  };
}

/** Parses a received message body back into the event; throws a zod error when it is not one of ours. */
export function parseEscalationEvent(body: unknown): EscalationCloudEvent {
  const value = typeof body === "string" || Buffer.isBuffer(body) ? (JSON.parse(body.toString()) as unknown) : body;
  return EscalationCloudEvent.parse(value);
}
