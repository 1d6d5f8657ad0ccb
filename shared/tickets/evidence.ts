// The evidence a support desk gets about one broken run: everything DESIGN.md lists, metadata only
// by default. Pure: no I/O, no clock (the caller passes `now`), so `simulate` and the function app
// produce byte-identical bundles from the same store content.
import { createHash } from "node:crypto";
import type { Api, EscalationReason, Instant, RunStatus, Severity, StepSummary, Usage } from "../model/run.js";
import type { OutboxItem, RunHead, Transition } from "../store/types.js";
import { sanitize, sanitizeValue } from "../sanitize/index.js";

export const EVIDENCE_SCHEMA = "foundry-run-monitor/evidence@1";

/** ISO-8601 UTC string (`2025-01-31T12:00:00.000Z`). */
export type IsoTime = string;

export interface EvidenceToolCall {
  id: string;
  stepId: string;
  type: string;
  name?: string;
  /** Status of the step that holds the call (Foundry reports status per step, not per call). */
  status: string;
  startedAt?: IsoTime;
  completedAt?: IsoTime;
  /** completed − started, when both are known. */
  durationMs?: number;
  /** now − started for a step that has not completed: how long the tool has been hanging. */
  runningForMs?: number;
}

export interface EvidenceEscalation {
  messageId: string;
  kind: "escalation" | "recovered";
  reason: EscalationReason;
  episode: number;
  severity: Severity;
  owner: string;
  at: IsoTime;
  ruleTrueAt?: IsoTime;
}

export interface EvidenceFinalMessage {
  id: string;
  role?: string;
  /** Length of the original text in Unicode code points. */
  length?: number;
  /** Hex SHA-256 of the original (unsanitized) UTF-8 text, so a reviewer can prove which message it was without us copying it. */
  sha256?: string;
  /** Sanitized text; present only when the policy allows message text. */
  text?: string;
}

export interface EvidenceBundle {
  schema: typeof EVIDENCE_SCHEMA;
  generatedAt: IsoTime;
  run: {
    project: string;
    api: Api;
    runId: string;
    threadId: string;
    status?: RunStatus;
    agentId?: string;
    agentName?: string;
    agentVersion?: string;
    model?: string;
    session?: string;
    /** Latest owner an escalation was routed to. */
    owner?: string;
    tags: Record<string, string>;
  };
  timestamps: {
    registered: IsoTime;
    created?: IsoTime;
    started?: IsoTime;
    completed?: IsoTime;
    failed?: IsoTime;
    cancelled?: IsoTime;
    expires?: IsoTime;
    statusSince?: IsoTime;
    lastProgress?: IsoTime;
  };
  timeline: { seq: number; at: IsoTime; from: RunStatus | null; to: RunStatus }[];
  escalations: EvidenceEscalation[];
  toolCalls: EvidenceToolCall[];
  /** Tool calls the run is waiting on (requires_action). */
  pendingToolCalls: { id: string; type: string; name?: string }[];
  /** Code verbatim, message sanitized. */
  error?: { code: string; message: string };
  incompleteReason?: string;
  usage?: Usage;
  finalMessage?: EvidenceFinalMessage;
  links: { dashboard?: string; api?: string };
  /** What the policy let into this bundle, stated so a reader knows what is deliberately absent. */
  policy: { includeToolArguments: boolean; includeMessageText: boolean };
}

export interface EvidenceInput {
  head: RunHead;
  transitions: Transition[];
  escalations: OutboxItem[];
  /** Fresh steps from Foundry; falls back to the steps stored on the head. */
  steps?: StepSummary[];
  finalMessage?: { id: string; role: string; text: string };
  policy: { includeToolArguments?: boolean; includeMessageText?: boolean };
  links: { dashboard?: string; api?: string };
  now: Instant;
}

const iso = (ms: Instant): IsoTime => new Date(ms).toISOString();
const isoOpt = (ms: Instant | undefined): IsoTime | undefined => (ms === undefined ? undefined : iso(ms));

/** Drops undefined members so bundles compare and serialize the same however they were built. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const optSanitized = (s: string | undefined): string | undefined => (s === undefined ? undefined : sanitize(s));

function toolCallsOf(steps: StepSummary[], now: Instant): EvidenceToolCall[] {
  const calls: EvidenceToolCall[] = [];
  for (const step of steps) {
    const done = step.completedAt !== undefined;
    for (const call of step.toolCalls) {
      calls.push(
        compact({
          id: call.id,
          stepId: step.id,
          type: sanitize(call.type),
          // Tool names are chosen by agent authors; sanitize in case one embeds data.
          name: optSanitized(call.name),
          status: sanitize(step.status),
          startedAt: isoOpt(step.createdAt),
          completedAt: isoOpt(step.completedAt),
          durationMs: done && step.createdAt !== undefined ? Math.max(0, step.completedAt! - step.createdAt) : undefined,
          runningForMs: !done && step.createdAt !== undefined ? Math.max(0, now - step.createdAt) : undefined,
        }),
      );
    }
  }
  return calls;
}

function finalMessageOf(input: EvidenceInput): EvidenceFinalMessage | undefined {
  const m = input.finalMessage;
  if (!m) return input.head.finalMessageId ? { id: input.head.finalMessageId } : undefined;
  return compact({
    id: m.id,
    role: sanitize(m.role),
    length: [...m.text].length,
    sha256: createHash("sha256").update(m.text, "utf8").digest("hex"),
    text: input.policy.includeMessageText ? sanitize(m.text) : undefined,
  });
}

export function buildEvidence(input: EvidenceInput): EvidenceBundle {
  const { head } = input;
  const escalations = [...input.escalations].sort((a, b) => a.at - b.at || a.messageId.localeCompare(b.messageId));
  const latestOwner = escalations.length > 0 ? escalations[escalations.length - 1].owner : undefined;
  return compact({
    schema: EVIDENCE_SCHEMA,
    generatedAt: iso(input.now),
    // IDs stay verbatim (support searches by them; the sanitizer keeps them anyway). Free text
    // that a caller or an agent author chose is sanitized.
    run: compact({
      project: head.ref.project,
      api: head.ref.api,
      runId: head.ref.runId,
      threadId: head.ref.threadId,
      status: head.status,
      agentId: head.agentId,
      agentName: optSanitized(head.agentName),
      agentVersion: optSanitized(head.agentVersion),
      model: optSanitized(head.model),
      session: optSanitized(head.session),
      owner: optSanitized(latestOwner),
      tags: sanitizeValue({ ...head.tags }),
    }),
    timestamps: compact({
      registered: iso(head.registeredAt),
      created: isoOpt(head.createdAt),
      started: isoOpt(head.startedAt),
      completed: isoOpt(head.completedAt),
      failed: isoOpt(head.failedAt),
      cancelled: isoOpt(head.cancelledAt),
      expires: isoOpt(head.expiresAt),
      statusSince: isoOpt(head.statusSince),
      lastProgress: isoOpt(head.progressAt),
    }),
    timeline: [...input.transitions].sort((a, b) => a.seq - b.seq).map((t) => ({ seq: t.seq, at: iso(t.at), from: t.from, to: t.to })),
    escalations: escalations.map((e) =>
      compact({
        messageId: e.messageId,
        kind: e.kind,
        reason: e.reason,
        episode: e.episode,
        severity: e.severity,
        owner: sanitize(e.owner),
        at: iso(e.at),
        ruleTrueAt: isoOpt(e.ruleTrueAt),
      }),
    ),
    toolCalls: toolCallsOf(input.steps ?? head.steps ?? [], input.now),
    pendingToolCalls: (head.pendingToolCalls ?? []).map((c) => compact({ id: c.id, type: sanitize(c.type), name: optSanitized(c.name) })),
    error: head.lastError ? { code: head.lastError.code, message: sanitize(head.lastError.message) } : undefined,
    incompleteReason: optSanitized(head.incompleteDetails?.reason),
    usage: head.usage ? { ...head.usage } : undefined,
    finalMessage: finalMessageOf(input),
    links: compact({ ...input.links }),
    policy: { includeToolArguments: input.policy.includeToolArguments ?? false, includeMessageText: input.policy.includeMessageText ?? false },
  });
}
