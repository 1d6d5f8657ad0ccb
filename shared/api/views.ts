import type { EscalationReason, Instant, RunStatus } from "../model/run.js";
import type { OutboxItem, RunHead, Transition } from "../store/types.js";
import type { RemediationRecord } from "../remediation/types.js";
import type { TicketLink } from "./types.js";

// The JSON shapes the API answers with: ISO times instead of epoch milliseconds, and none of the
// store's bookkeeping (ETags, shards, pending outbox IDs, progress markers).

const iso = (ms: Instant): string => new Date(ms).toISOString();
const isoOpt = (ms: Instant | undefined): string | undefined => (ms === undefined ? undefined : iso(ms));

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A row of the run list. */
export interface RunSummary {
  project: string;
  api: string;
  runId: string;
  threadId: string;
  /** Undefined until the monitor's first successful read. */
  status?: RunStatus;
  agentId?: string;
  agentName?: string;
  session?: string;
  owner?: string;
  model?: string;
  registeredAt: string;
  updatedAt: string;
  createdAt?: string;
  statusSince?: string;
  /** Reasons this run has escalated for (any episode). */
  reasons: EscalationReason[];
  /** Reasons whose episode is still open. */
  activeReasons: EscalationReason[];
  terminal: boolean;
  vanished?: boolean;
}

export function runSummary(h: RunHead): RunSummary {
  const episodes = Object.entries(h.episodes) as [EscalationReason, { active: boolean }][];
  return compact({
    project: h.ref.project,
    api: h.ref.api,
    runId: h.ref.runId,
    threadId: h.ref.threadId,
    status: h.status,
    agentId: h.agentId,
    agentName: h.agentName,
    session: h.session,
    owner: h.tags.owner,
    model: h.model,
    registeredAt: iso(h.registeredAt),
    updatedAt: iso(h.updatedAt),
    createdAt: isoOpt(h.createdAt),
    statusSince: isoOpt(h.statusSince),
    reasons: episodes.map(([r]) => r),
    activeReasons: episodes.filter(([, e]) => e.active).map(([r]) => r),
    terminal: h.terminal,
    vanished: h.vanished || undefined,
  });
}

/** Everything the head knows, for `GET /api/runs/{project}/{runId}`. */
export function runDetail(h: RunHead) {
  return compact({
    ...runSummary(h),
    agentVersion: h.agentVersion,
    tags: { ...h.tags },
    timestamps: compact({
      registered: iso(h.registeredAt),
      created: isoOpt(h.createdAt),
      started: isoOpt(h.startedAt),
      completed: isoOpt(h.completedAt),
      failed: isoOpt(h.failedAt),
      cancelled: isoOpt(h.cancelledAt),
      expires: isoOpt(h.expiresAt),
      statusSince: isoOpt(h.statusSince),
      queuedSince: isoOpt(h.queuedSince),
      lastProgress: isoOpt(h.progressAt),
      updated: iso(h.updatedAt),
    }),
    usage: h.usage ? { ...h.usage } : undefined,
    lastError: h.lastError ? { ...h.lastError } : undefined,
    incompleteReason: h.incompleteDetails?.reason,
    pendingToolCalls: h.pendingToolCalls?.map((c) => ({ ...c })),
    finalMessageId: h.finalMessageId,
    episodes: Object.fromEntries(Object.entries(h.episodes).map(([r, e]) => [r, compact({ episode: e.episode, active: e.active, since: isoOpt(e.since) })])),
    transitionCount: h.seq,
  });
}

export type TimelineEventKind = "registered" | "transition" | "step" | "escalation" | "recovered" | "remediation" | "ticket";

export interface TimelineEvent {
  at: string;
  kind: TimelineEventKind;
  /** One line an operator reads. */
  summary: string;
  from?: RunStatus | null;
  to?: RunStatus;
  reason?: EscalationReason;
  episode?: number;
  severity?: string;
  messageId?: string;
  stepId?: string;
  ticketId?: string;
  url?: string;
  /** Remediation events: what the monitor did, and how it ended. */
  action?: RemediationRecord["action"];
  state?: RemediationRecord["state"];
  newRunId?: string;
}

export interface TimelineInput {
  head: RunHead;
  transitions: Transition[];
  outbox: OutboxItem[];
  /** Undefined when no ticket ledger is configured (distinct from "no tickets"). */
  tickets?: TicketLink[];
  /** Remediation rows for the run; undefined when no remediation ledger is connected. */
  remediation?: RemediationRecord[];
}

const STATE_TEXT: Record<RemediationRecord["state"], string> = { started: "in progress", done: "done", refused: "refused", failed: "failed" };

/** One line per remediation row, from the point of view of the run whose timeline it is. */
function remediationEvent(runId: string, r: RemediationRecord): TimelineEvent {
  const outcome = `${STATE_TEXT[r.state]}${r.detail ? ` (${r.detail})` : ""}`;
  const summary =
    r.action === "cancel"
      ? `monitor cancelled the run (because ${r.because}): ${outcome}`
      : r.newRunId === runId
        ? `started by the monitor as retry ${r.attempt} of ${r.runId} (because ${r.because})`
        : `monitor retried ${r.runId === runId ? "the run" : r.runId} (attempt ${r.attempt}, because ${r.because})${r.newRunId ? ` as ${r.newRunId}` : ""}: ${outcome}`;
  return compact({ at: iso(r.finishedAt ?? r.startedAt), kind: "remediation" as const, action: r.action, state: r.state, newRunId: r.newRunId, reason: r.because as EscalationReason, summary });
}

function stepEvents(h: RunHead): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  for (const s of h.steps ?? []) {
    if (s.createdAt === undefined) continue;
    const tools = s.toolCalls.map((c) => c.name ?? c.type).join(", ");
    const what = s.type === "tool_calls" || tools ? `tool call${s.toolCalls.length === 1 ? "" : "s"} ${tools || s.type}` : s.type.replace(/_/g, " ");
    events.push({ at: iso(s.createdAt), kind: "step", stepId: s.id, summary: `step started: ${what}` });
    if (s.completedAt !== undefined) events.push({ at: iso(s.completedAt), kind: "step", stepId: s.id, summary: `step ${s.status}: ${what}` });
  }
  return events;
}

export function timelineView(input: TimelineInput) {
  const { head } = input;
  const transitions = [...input.transitions].sort((a, b) => a.seq - b.seq);
  const outbox = [...input.outbox].sort((a, b) => a.at - b.at || (a.messageId < b.messageId ? -1 : 1));
  const events: TimelineEvent[] = [{ at: iso(head.registeredAt), kind: "registered", summary: "registered with the monitor" }];
  for (const t of transitions) {
    events.push({ at: iso(t.at), kind: "transition", from: t.from, to: t.to, summary: t.from ? `${t.from} → ${t.to}` : `first seen ${t.to}` });
  }
  events.push(...stepEvents(head));
  for (const o of outbox) {
    events.push(
      o.kind === "escalation"
        ? { at: iso(o.at), kind: "escalation", reason: o.reason, episode: o.episode, severity: o.severity, messageId: o.messageId, summary: `escalated: ${o.reason} (episode ${o.episode}, ${o.severity}, owner ${o.owner})` }
        : { at: iso(o.at), kind: "recovered", reason: o.reason, episode: o.episode, messageId: o.messageId, summary: `recovered from ${o.reason} (episode ${o.episode})` },
    );
  }
  for (const r of input.remediation ?? []) events.push(remediationEvent(head.ref.runId, r));
  for (const t of input.tickets ?? []) {
    if (t.at === undefined) continue;
    events.push(compact({ at: iso(t.at), kind: "ticket" as const, ticketId: t.ticketId, reason: t.reason, url: t.url, summary: `ticket ${t.action ?? "recorded"}: ${t.externalId ?? t.ticketId}${t.sink ? ` (${t.sink})` : ""}` }));
  }
  // Stable order: by time, then registration → transitions → steps → escalations → remediation → tickets.
  const rank: Record<TimelineEventKind, number> = { registered: 0, transition: 1, step: 2, escalation: 3, recovered: 3, remediation: 4, ticket: 5 };
  const ordered = events.map((e, i) => ({ e, i })).sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : rank[a.e.kind] - rank[b.e.kind] || a.i - b.i));
  return {
    run: runSummary(head),
    events: ordered.map((x) => x.e),
    transitions: transitions.map((t) => ({ seq: t.seq, at: iso(t.at), from: t.from, to: t.to })),
    steps: (head.steps ?? []).map((s) =>
      compact({ id: s.id, type: s.type, status: s.status, createdAt: isoOpt(s.createdAt), completedAt: isoOpt(s.completedAt), toolCalls: s.toolCalls.map((c) => ({ ...c })), messageId: s.messageId }),
    ),
    escalations: outbox.map((o) =>
      compact({ messageId: o.messageId, kind: o.kind, reason: o.reason, episode: o.episode, severity: o.severity, owner: o.owner, at: iso(o.at), ruleTrueAt: isoOpt(o.ruleTrueAt), published: o.status === "sent" }),
    ),
    tickets: input.tickets === undefined ? null : input.tickets.map((t) => compact({ ...t, at: isoOpt(t.at) })),
    remediation:
      input.remediation === undefined ? null : input.remediation.map((r) => compact({ ...r, startedAt: iso(r.startedAt), finishedAt: isoOpt(r.finishedAt) })),
    usage: head.usage ? { ...head.usage } : undefined,
    lastError: head.lastError ? { ...head.lastError } : undefined,
    finalMessageId: head.finalMessageId,
  };
}
export type TimelineBody = ReturnType<typeof timelineView>;
