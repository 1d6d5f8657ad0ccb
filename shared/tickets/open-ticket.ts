import { createHash } from "node:crypto";
import type { RunSource } from "../foundry/run-source.js";
import type { Instant, Severity } from "../model/run.js";
import type { OutboxItem, RunHead, RunStore } from "../store/types.js";
import { buildEvidence, type EvidenceBundle } from "./evidence.js";
import { ticketDocument, ticketTitle, updateDocument, type TicketTrigger } from "./document.js";
import { renderMarkdown } from "./render.js";
import type { LedgerEntry, TicketLedger } from "./ledger.js";
import type { TicketDraft, TicketSink } from "./sinks/types.js";

// The open-ticket handler's core: one escalation message in, at most one ticket per run out.
// First escalation of a run opens its ticket, later ones (and recoveries) update it, a
// redelivered message changes nothing. Storm guard: beyond `threshold` escalations of one group
// (e.g. agent + reason) in a window, runs join one grouped incident instead of opening tickets.

export interface StormGrouping {
  groupBy: ("agentId" | "reason" | "project" | "api" | "threadId" | "model")[];
  threshold: number;
  windowSeconds: number;
}

export type TicketAction = "opened" | "updated" | "grouped" | "resolved";

export interface TicketEvent {
  at: Instant;
  runId: string;
  reason: string;
  ticketId: string;
  action: TicketAction;
  /** The sanitized text the sink received. */
  body: string;
}

export interface TicketDeps {
  store: RunStore;
  ledger: TicketLedger;
  /** For evidence: steps and the final message, best effort. Omitted → the stored head's steps only. */
  source?: RunSource;
  /** Sinks for an owner (configured per policy/owner). */
  sinksFor(owner: string): TicketSink[];
  evidencePolicy: { includeToolArguments?: boolean; includeMessageText?: boolean };
  grouping?: StormGrouping;
  links(head: RunHead): { dashboard?: string; api?: string };
  now(): Instant;
  onTicket?(event: TicketEvent): void;
}

export type HandleResult = { kind: "duplicate" } | { kind: "no-run" } | { kind: "ignored" } | { kind: "done"; action: TicketAction; ticketId: string };

export const ticketIdFor = (key: string): string => "TKT-" + createHash("sha256").update(key, "utf8").digest("hex").slice(0, 12).toUpperCase();

const MAX_LEDGER_TRIES = 8;

export async function handleEscalationMessage(deps: TicketDeps, item: OutboxItem): Promise<HandleResult> {
  const { project, runId } = item.ref;
  for (let attempt = 0; attempt < MAX_LEDGER_TRIES; attempt++) {
    const existing = await deps.ledger.get(project, runId);
    if (existing?.value.processed.includes(item.messageId)) return { kind: "duplicate" };
    const stored = await deps.store.getHead(project, runId);
    if (!stored) return { kind: "no-run" };
    const head = stored.head;

    if (item.kind === "recovered") {
      if (!existing || existing.value.state === "opening") return { kind: "ignored" };
      const bundle = await evidence(deps, head);
      const trigger: TicketTrigger = { reason: item.reason, severity: item.severity, episode: item.episode };
      const note = `Recovered: the run left ${item.reason} (episode ${item.episode}).`;
      const body = renderMarkdown(updateDocument(bundle, trigger, note));
      const draft = draftOf(existing.value.groupKey ?? runId, bundle, trigger, body);
      for (const sink of deps.sinksFor(item.owner)) {
        const id = existing.value.externalIds[sink.name];
        if (id && existing.value.state === "open") await (sink.resolve ? sink.resolve(id, draft) : sink.update(id, draft, note));
      }
      const next = { ...existing.value, processed: [...existing.value.processed, item.messageId], updatedAt: deps.now() };
      if ((await deps.ledger.put(next, existing.etag)) === "conflict") continue;
      deps.onTicket?.({ at: deps.now(), runId, reason: item.reason, ticketId: existing.value.ticketId, action: "resolved", body });
      return { kind: "done", action: "resolved", ticketId: existing.value.ticketId };
    }

    const bundle = await evidence(deps, head);
    const trigger: TicketTrigger = { reason: item.reason, severity: item.severity, episode: item.episode };

    if (existing && existing.value.state !== "opening") {
      // A later escalation of a run that has its ticket (or is in a group): update, never open again.
      const note = `New escalation: ${item.reason} (episode ${item.episode}, severity ${item.severity}).`;
      const body = renderMarkdown(existing.value.state === "grouped" ? ticketDocument(bundle, trigger) : updateDocument(bundle, trigger, note));
      const draft = draftOf(existing.value.groupKey ?? runId, bundle, trigger, body);
      for (const sink of deps.sinksFor(item.owner)) {
        const id = existing.value.externalIds[sink.name];
        if (id) await sink.update(id, draft, note);
      }
      const next = { ...existing.value, processed: [...existing.value.processed, item.messageId], updatedAt: deps.now() };
      if ((await deps.ledger.put(next, existing.etag)) === "conflict") continue;
      deps.onTicket?.({ at: deps.now(), runId, reason: item.reason, ticketId: existing.value.ticketId, action: "updated", body });
      return { kind: "done", action: "updated", ticketId: existing.value.ticketId };
    }

    if (!existing && deps.grouping) {
      const grouped = await joinStormGroup(deps, deps.grouping, item, head, bundle, trigger);
      if (grouped === "conflict") continue;
      if (grouped) return grouped;
    }

    // Open. The ledger row goes in first as "opening": if we die after a sink accepted the ticket,
    // the redelivery finds the row and asks each sink for the ticket by key instead of opening a second.
    const ticketId = existing?.value.ticketId ?? ticketIdFor(`${project}|${runId}`);
    let etag = existing?.etag;
    let entry: LedgerEntry = existing?.value ?? { project, runId, ticketId, state: "opening", externalIds: {}, processed: [], openedAt: deps.now(), updatedAt: deps.now() };
    if (!existing) {
      if ((await deps.ledger.put(entry, undefined)) === "conflict") continue;
      const fresh = await deps.ledger.get(project, runId);
      if (!fresh) continue;
      entry = fresh.value;
      etag = fresh.etag;
    }
    const body = renderMarkdown(ticketDocument(bundle, trigger));
    const draft = draftOf(runId, bundle, trigger, body);
    const externalIds = { ...entry.externalIds };
    for (const sink of deps.sinksFor(item.owner)) {
      if (externalIds[sink.name]) continue;
      const found = entry.state === "opening" && sink.findByKey ? await sink.findByKey(draft.key) : undefined;
      externalIds[sink.name] = (found ?? (await sink.open(draft))).externalId;
      // Record each sink as soon as it answers, so a crash before the next one costs no duplicate here.
      const partial = { ...entry, externalIds: { ...externalIds }, updatedAt: deps.now() };
      if ((await deps.ledger.put(partial, etag)) === "ok") {
        const again = await deps.ledger.get(project, runId);
        etag = again?.etag;
        entry = again?.value ?? partial;
      }
    }
    const opened: LedgerEntry = { ...entry, state: "open", externalIds, processed: [...entry.processed, item.messageId], updatedAt: deps.now() };
    if ((await deps.ledger.put(opened, etag)) === "conflict") continue;
    deps.onTicket?.({ at: deps.now(), runId, reason: item.reason, ticketId, action: "opened", body });
    return { kind: "done", action: "opened", ticketId };
  }
  throw new Error(`ticket ledger for ${runId}: ${MAX_LEDGER_TRIES} conflicting writes in a row`);
}

function draftOf(key: string, bundle: EvidenceBundle, trigger: TicketTrigger, body: string): TicketDraft {
  return { key, title: ticketTitle(bundle, trigger), severity: trigger.severity as Severity, reason: trigger.reason, bundle, body, episode: trigger.episode };
}

async function evidence(deps: TicketDeps, head: RunHead): Promise<EvidenceBundle> {
  const [transitions, outbox] = await Promise.all([deps.store.listTransitions(head.ref.project, head.ref.runId), deps.store.listOutbox(head.ref.project, head.ref.runId)]);
  let finalMessage: { id: string; role: string; text: string } | undefined;
  if (deps.source && head.status === "completed") {
    // Evidence is best effort: a Foundry hiccup must not block the ticket.
    finalMessage = await deps.source.finalMessage(head.ref).catch(() => undefined);
  }
  return buildEvidence({
    head,
    transitions,
    escalations: outbox.filter((o) => o.kind === "escalation"),
    finalMessage,
    policy: deps.evidencePolicy,
    links: deps.links(head),
    now: deps.now(),
  });
}

function groupKeyOf(g: StormGrouping, item: OutboxItem, head: RunHead): string {
  const value = (k: StormGrouping["groupBy"][number]): string =>
    k === "agentId" ? item.agentId ?? head.agentId ?? "" : k === "reason" ? item.reason : k === "project" ? item.ref.project : k === "api" ? item.ref.api : k === "threadId" ? item.ref.threadId : head.model ?? "";
  return g.groupBy.map((k) => `${k}=${value(k)}`).join(",");
}

/**
 * Counts the run into its group's window. The first `threshold` runs open their own tickets;
 * from then on runs are listed in one grouped incident (opened once, updated per run).
 */
async function joinStormGroup(
  deps: TicketDeps,
  g: StormGrouping,
  item: OutboxItem,
  head: RunHead,
  bundle: EvidenceBundle,
  trigger: TicketTrigger,
): Promise<HandleResult | undefined | "conflict"> {
  const key = groupKeyOf(g, item, head);
  const windowStart = Math.floor(item.at / (g.windowSeconds * 1000)) * g.windowSeconds * 1000;
  const current = await deps.ledger.getGroup(key, windowStart);
  const group = current?.value ?? { key, windowStart, ticketId: ticketIdFor(`group|${key}|${windowStart}`), runIds: [], externalIds: {} };
  if (!group.runIds.includes(item.ref.runId)) group.runIds.push(item.ref.runId);
  if (group.runIds.length <= g.threshold) {
    return (await deps.ledger.putGroup(group, current?.etag)) === "conflict" ? "conflict" : undefined;
  }
  const body = renderMarkdown([
    { kind: "paragraph", content: [{ text: `Grouped incident ${group.ticketId}: ${group.runIds.length} runs escalated as ` }, { text: item.reason, code: true }, { text: ` for ${key} since ${new Date(windowStart).toISOString()}. This run joined it:` }] },
    ...ticketDocument(bundle, trigger),
  ]);
  const draft = draftOf(`group|${key}|${windowStart}`, bundle, trigger, body);
  for (const sink of deps.sinksFor(item.owner)) {
    const id = group.externalIds[sink.name];
    if (id) await sink.update(id, draft, `Run ${item.ref.runId} joined the group (${group.runIds.length} runs).`);
    else group.externalIds[sink.name] = (await sink.open({ ...draft, title: `[${item.severity}] storm: ${item.reason} — ${key} — ${group.runIds.length} runs` })).externalId;
  }
  if ((await deps.ledger.putGroup(group, current?.etag)) === "conflict") return "conflict";
  const entry: LedgerEntry = { project: item.ref.project, runId: item.ref.runId, ticketId: group.ticketId, state: "grouped", externalIds: { ...group.externalIds }, processed: [item.messageId], groupKey: draft.key, openedAt: deps.now(), updatedAt: deps.now() };
  if ((await deps.ledger.put(entry, undefined)) === "conflict") return "conflict";
  deps.onTicket?.({ at: deps.now(), runId: item.ref.runId, reason: item.reason, ticketId: group.ticketId, action: "grouped", body });
  return { kind: "done", action: "grouped", ticketId: group.ticketId };
}
