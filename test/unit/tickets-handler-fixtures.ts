// Shared by the ticket-handler tests: a run in a store, its escalation messages, and a sink that
// can be told to fail its next calls the way a real target does (SinkError, transient or not).
import type { EscalationReason } from "../../shared/model/run.js";
import type { OutboxItem, RunHead, RunStore } from "../../shared/store/types.js";
import type { TicketDeps } from "../../shared/tickets/open-ticket.js";
import type { TicketLedger } from "../../shared/tickets/ledger.js";
import { SinkError, type OpenedTicket, type TicketDraft, type TicketSink } from "../../shared/tickets/sinks/types.js";
import { MemoryTicketSink } from "../../local/memory-sink.js";

export const T0 = Date.UTC(2025, 5, 5, 12, 0, 0);

export function runHead(runId: string, over: Partial<RunHead> = {}): RunHead {
  return {
    ref: { project: "prod", api: "classic", runId, threadId: `thread_${runId.slice(4)}` },
    agentId: "asst_payments",
    agentName: "payments-helper",
    tags: { owner: "payments-team" },
    registeredAt: T0,
    status: "failed",
    statusSince: T0 + 60_000,
    createdAt: T0,
    failedAt: T0 + 59_000,
    model: "gpt-4o",
    lastError: { code: "server_error", message: "tool crm_search failed" },
    episodes: { failed: { episode: 1, active: true, since: T0 + 59_000 } },
    seq: 2,
    terminal: true,
    pendingOutbox: [],
    shard: 0,
    updatedAt: T0 + 60_000,
    ...over,
  };
}

export async function seedRun(store: RunStore, runId: string, over: Partial<RunHead> = {}): Promise<RunHead> {
  const head = runHead(runId, over);
  await store.createRun({
    head,
    transitions: [
      { project: "prod", runId, seq: 1, at: T0, from: null, to: "in_progress" },
      { project: "prod", runId, seq: 2, at: T0 + 60_000, from: "in_progress", to: "failed" },
    ],
    outbox: [],
  });
  return head;
}

export function escalation(runId: string, reason: EscalationReason = "failed", episode = 1, over: Partial<OutboxItem> = {}): OutboxItem {
  return {
    messageId: `${runId}:${reason}:${episode}`,
    kind: "escalation",
    ref: { project: "prod", api: "classic", runId, threadId: `thread_${runId.slice(4)}` },
    agentId: "asst_payments",
    reason,
    episode,
    severity: "high",
    owner: "payments-team",
    at: T0 + 60_000,
    status: "sent",
    ...over,
  };
}

export const recovery = (runId: string, reason: EscalationReason, episode = 1): OutboxItem => ({
  ...escalation(runId, reason, episode),
  messageId: `${runId}:${reason}:${episode}:recovered`,
  kind: "recovered",
});

type Op = "open" | "update" | "resolve";

/** A MemoryTicketSink whose next calls of one kind can fail with a given SinkError. */
export class FailingSink implements TicketSink {
  readonly inner = new MemoryTicketSink();
  private readonly failures: { op: Op; error: () => SinkError }[] = [];
  constructor(readonly name: string) {}
  get received() {
    return this.inner.received;
  }
  failNext(op: Op, status: number, times = 1, retryAfterMs?: number): void {
    for (let i = 0; i < times; i++) this.failures.push({ op, error: () => new SinkError(this.name, `POST /api answered HTTP ${status}`, { permanent: status >= 400 && status < 500 && status !== 408 && status !== 429, status, retryAfterMs }) });
  }
  private check(op: Op): void {
    const i = this.failures.findIndex((f) => f.op === op);
    if (i >= 0) throw this.failures.splice(i, 1)[0].error();
  }
  findByKey(key: string): Promise<OpenedTicket | undefined> {
    return this.inner.findByKey(key);
  }
  async open(t: TicketDraft): Promise<OpenedTicket> {
    this.check("open");
    return this.inner.open(t);
  }
  async update(id: string, t: TicketDraft, note: string): Promise<void> {
    this.check("update");
    return this.inner.update(id, t, note);
  }
  async resolve(id: string, t: TicketDraft): Promise<void> {
    this.check("resolve");
    return this.inner.resolve(id, t);
  }
}

export function ticketDeps(store: RunStore, ledger: TicketLedger, sinks: TicketSink[], over: Partial<TicketDeps> = {}): TicketDeps & { events: Parameters<NonNullable<TicketDeps["onTicket"]>>[0][] } {
  const events: Parameters<NonNullable<TicketDeps["onTicket"]>>[0][] = [];
  return {
    store,
    ledger,
    sinksFor: () => sinks,
    evidencePolicy: {},
    links: () => ({}),
    now: () => T0 + 61_000,
    onTicket: (e) => events.push(e),
    retryBackoff: { baseMs: 100, maxMs: 1000 },
    events,
    ...over,
  };
}
