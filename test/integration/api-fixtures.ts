// Realistic runs for the API, dashboard and CLI tests, written through the RunStore interface the
// way the tracker writes them: createRun at registration, then one commit per observed change.
import type { EscalationReason, Instant, RunStatus, Severity, StepSummary } from "../../shared/model/run.js";
import type { OutboxItem, RunHead, RunStore, Transition } from "../../shared/store/types.js";

export const T0: Instant = Date.UTC(2026, 2, 2, 9, 0, 0); // 2026-03-02T09:00:00Z

interface RunSpec {
  project: string;
  api?: "classic" | "responses";
  runId: string;
  threadId: string;
  agentId?: string;
  session?: string;
  owner?: string;
  registeredAt: Instant;
}

/** Writes runs change by change and keeps the current head so the next change builds on it. */
export class RunWriter {
  private head: RunHead;
  private etag = "";
  constructor(private readonly store: RunStore, spec: RunSpec) {
    this.head = {
      ref: { project: spec.project, api: spec.api ?? "classic", runId: spec.runId, threadId: spec.threadId },
      agentId: spec.agentId,
      session: spec.session,
      tags: spec.owner ? { owner: spec.owner } : {},
      registeredAt: spec.registeredAt,
      createdAt: spec.registeredAt,
      episodes: {},
      seq: 0,
      terminal: false,
      pendingOutbox: [],
      shard: 3,
      updatedAt: spec.registeredAt,
    };
  }

  async register(status: RunStatus = "queued"): Promise<this> {
    const t = this.nextTransition(this.head.registeredAt, status);
    this.head = { ...this.head, status, statusSince: this.head.registeredAt, queuedSince: status === "queued" ? this.head.registeredAt : undefined };
    const r = await this.store.createRun({ head: this.head, transitions: [t], outbox: [] });
    if (r !== "created") throw new Error(`fixture: ${this.head.ref.runId} exists`);
    this.etag = (await this.store.getHead(this.head.ref.project, this.head.ref.runId))!.etag;
    return this;
  }

  /** One poll's worth of change: optional status move, head fields, escalations/recoveries. */
  async observe(at: Instant, change: { status?: RunStatus; head?: Partial<RunHead>; escalate?: { reason: EscalationReason; severity?: Severity; owner?: string }[]; recover?: EscalationReason[] }): Promise<this> {
    const transitions: Transition[] = [];
    let head: RunHead = { ...this.head, ...change.head, updatedAt: at };
    if (change.status && change.status !== this.head.status) {
      transitions.push(this.nextTransition(at, change.status));
      head = { ...head, status: change.status, statusSince: at, seq: this.head.seq, terminal: ["completed", "failed", "cancelled", "expired", "incomplete"].includes(change.status) };
    }
    const outbox: OutboxItem[] = [];
    const episodes = { ...head.episodes };
    for (const e of change.escalate ?? []) {
      const episode = (episodes[e.reason]?.episode ?? 0) + 1;
      episodes[e.reason] = { episode, active: true, since: at - 5_000 };
      outbox.push({ messageId: `${head.ref.runId}:${e.reason}:${episode}`, kind: "escalation", ref: head.ref, agentId: head.agentId, reason: e.reason, episode, severity: e.severity ?? "high", owner: e.owner ?? head.tags.owner ?? "platform", at, ruleTrueAt: at - 5_000, status: "sent" });
    }
    for (const reason of change.recover ?? []) {
      const ep = episodes[reason]!;
      episodes[reason] = { ...ep, active: false };
      outbox.push({ messageId: `${head.ref.runId}:${reason}:${ep.episode}:recovered`, kind: "recovered", ref: head.ref, agentId: head.agentId, reason, episode: ep.episode, severity: "low", owner: head.tags.owner ?? "platform", at, status: "sent" });
    }
    head = { ...head, episodes };
    const r = await this.store.commit({ expectedEtag: this.etag, head, transitions, outbox });
    if (!r.ok) throw new Error(`fixture: conflict on ${head.ref.runId}`);
    this.etag = r.etag;
    this.head = head;
    return this;
  }

  private nextTransition(at: Instant, to: RunStatus): Transition {
    const seq = this.head.seq + 1;
    this.head = { ...this.head, seq };
    return { project: this.head.ref.project, runId: this.head.ref.runId, seq, at, from: this.head.status ?? null, to };
  }
}

const toolStep = (id: string, tool: string, status: string, createdAt: Instant, completedAt?: Instant): StepSummary => ({
  id,
  type: "tool_calls",
  status,
  createdAt,
  completedAt,
  toolCalls: [{ id: `call_${id.slice(5)}`, type: "function", name: tool }],
});

export const IDS = {
  failed: { project: "prod", runId: "run_Fa1LedPaYment0001", threadId: "thread_Pay0001Alpha", agentId: "asst_payments", session: "sess-42" },
  retry: { project: "prod", runId: "run_Retry0002", threadId: "thread_Pay0001Alpha", agentId: "asst_payments", session: "sess-42" },
  stalled: { project: "prod", runId: "run_StaLLed0003", threadId: "thread_Supp0003Beta", agentId: "asst_support", session: "sess-77" },
  response: { project: "staging", runId: "resp_0d5c1a2b3c4d5e6f", threadId: "conv_Gamma0004", agentId: "asst_writer", session: "sess-88" },
  waiting: { project: "prod", runId: "run_Wait0005", threadId: "thread_Tool0005Delta", agentId: "asst_support", session: "sess-99" },
} as const;

export const BULK_RUNS = 130;

/** Five hand-written runs (t0 + 0–40 min, t0 defaults to 2026-03-02 09:00Z) plus BULK_RUNS plain completed runs in project `bulk`, one a minute from t0 + 1 h. */
export async function fillStore(store: RunStore, t0: Instant = T0): Promise<void> {
  await store.init();
  const failed = await new RunWriter(store, { ...IDS.failed, owner: "payments-team", registeredAt: t0 }).register();
  await failed.observe(t0 + 4_000, { status: "in_progress", head: { startedAt: t0 + 3_000, model: "gpt-4o", agentName: "payments-helper", agentVersion: "3" } });
  await failed.observe(t0 + 47_000, { head: { progressAt: t0 + 47_000, steps: [toolStep("step_Crm0001", "crm_search", "failed", t0 + 40_000, t0 + 47_250)] } });
  await failed.observe(t0 + 131_000, {
    status: "failed",
    head: { failedAt: t0 + 130_000, lastError: { code: "server_error", message: "Tool crm_search failed: 401 from https://crm.contoso.com/api?key=[REDACTED] while serving jane.doe@contoso.com" }, usage: { promptTokens: 1834, completionTokens: 211, totalTokens: 2045 }, finalMessageId: "msg_Final0001" },
    escalate: [{ reason: "failed" }],
  });

  const retry = await new RunWriter(store, { ...IDS.retry, owner: "payments-team", registeredAt: t0 + 10 * 60_000 }).register();
  await retry.observe(t0 + 10 * 60_000 + 5_000, { status: "in_progress" });
  await retry.observe(t0 + 11 * 60_000, { status: "completed", head: { completedAt: t0 + 11 * 60_000, usage: { promptTokens: 900, completionTokens: 120, totalTokens: 1020 } } });

  const stalled = await new RunWriter(store, { ...IDS.stalled, owner: "support-team", registeredAt: t0 + 20 * 60_000 }).register();
  await stalled.observe(t0 + 20 * 60_000 + 2_000, { status: "in_progress", head: { startedAt: t0 + 20 * 60_000 + 1_000, model: "gpt-4o-mini" } });
  await stalled.observe(t0 + 36 * 60_000, { escalate: [{ reason: "stalled-in-progress", severity: "medium" }] });
  await stalled.observe(t0 + 38 * 60_000, { head: { steps: [toolStep("step_Kb0003", "kb_lookup", "completed", t0 + 37 * 60_000, t0 + 37 * 60_000 + 800)], progressAt: t0 + 37 * 60_000 }, recover: ["stalled-in-progress"] });
  await stalled.observe(t0 + 39 * 60_000, { status: "completed", head: { completedAt: t0 + 39 * 60_000 } });

  const resp = await new RunWriter(store, { ...IDS.response, api: "responses", owner: "content-team", registeredAt: t0 + 30 * 60_000 }).register();
  await resp.observe(t0 + 30 * 60_000 + 30_000, { status: "in_progress", head: { model: "gpt-4.1" } });
  await resp.observe(t0 + 31 * 60_000, { status: "completed", head: { completedAt: t0 + 31 * 60_000, finalMessageId: "msg_Resp0004", usage: { promptTokens: 300, completionTokens: 700, totalTokens: 1000 } } });

  const waiting = await new RunWriter(store, { ...IDS.waiting, owner: "support-team", registeredAt: t0 + 40 * 60_000 }).register();
  await waiting.observe(t0 + 40 * 60_000 + 3_000, { status: "in_progress" });
  await waiting.observe(t0 + 41 * 60_000, { status: "requires_action", head: { pendingToolCalls: [{ id: "call_Pend0005", type: "function", name: "approve_refund" }], expiresAt: t0 + 50 * 60_000 } });
  await waiting.observe(t0 + 52 * 60_000, { escalate: [{ reason: "stalled-requires-action" }] });

  for (let i = 0; i < BULK_RUNS; i++) {
    const at = t0 + 60 * 60_000 + i * 60_000;
    const w = await new RunWriter(store, { project: "bulk", runId: `run_Bulk${String(i).padStart(4, "0")}`, threadId: `thread_Bulk${String(i).padStart(4, "0")}`, agentId: "asst_bulk", owner: "bulk-team", registeredAt: at }).register("in_progress");
    await w.observe(at + 20_000, { status: i % 10 === 9 ? "failed" : "completed", escalate: i % 10 === 9 ? [{ reason: "failed", severity: "medium" }] : undefined });
  }
}
