import { createHash } from "node:crypto";
import { parseEscalationEvent } from "../bus/cloud-event.js";
import { ensureError } from "../errors.js";
import type { RunSource } from "../foundry/run-source.js";
import type { Instant, Severity } from "../model/run.js";
import { sanitize } from "../sanitize/index.js";
import type { OutboxItem, RunHead, RunStore } from "../store/types.js";
import { outboxItemOf } from "./escalation-message.js";
import { buildEvidence, type EvidenceBundle } from "./evidence.js";
import { ticketDocument, ticketTitle, updateDocument, type TicketTrigger } from "./document.js";
import { renderMarkdown } from "./render.js";
import type { LedgerEntry, StormGroup, TicketAction, TicketLedger } from "./ledger.js";
import { SinkError, type TicketDraft, type TicketSink } from "./sinks/types.js";

// The open-ticket handler's core: one escalation message in, at most one ticket per run out.
//
// Idempotency lives in the ledger row of the run (ledger.ts), keyed by the CloudEvent id of the
// message (= the outbox messageId, kept when `run-monitor dlq replay` re-sends under a new
// Service Bus messageId):
// - a message already in `processed` changes nothing (no sink call);
// - opening writes the row as "opening" before any sink is called, records each sink's ticket ID
//   as soon as it answers, and a delivery that finds "opening" asks each sink `findByKey` before
//   opening — so a crash between "sink accepted" and "ledger recorded" costs no second ticket
//   in sinks that can look tickets up (file, memory; PagerDuty dedups by its dedup_key);
// - updates record per message which sinks already have them (`inFlight`), so a retry after one
//   sink failed halfway does not comment twice on the others.
// Storm guard: beyond `threshold` escalations of one group (e.g. agent + reason) in a window,
// runs join one grouped incident instead of opening tickets.
//
// Failures are thrown as settlement instructions for the trigger: `DeadLetter` (a permanent sink
// error, a message that is not ours) and `RetryLater` (anything else, with a backoff delay).

export type { TicketAction } from "./ledger.js";

export interface StormGrouping {
  groupBy: ("agentId" | "reason" | "project" | "api" | "threadId" | "model")[];
  threshold: number;
  windowSeconds: number;
}

export interface TicketEvent {
  at: Instant;
  runId: string;
  reason: string;
  ticketId: string;
  action: TicketAction;
  /** The sanitized text the sink received. */
  body: string;
}

export interface RetryBackoff {
  /** Delay before the first redelivery; doubles per delivery. Default 2 s. */
  baseMs: number;
  /** Upper bound, also for a target's Retry-After. Default 60 s. */
  maxMs: number;
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
  retryBackoff?: RetryBackoff;
  /**
   * How long another delivery's claim to open a run's ticket is honoured before this one takes
   * over (the claimant died and its message went elsewhere). Default 10 minutes: longer than the
   * 5-minute lock renewal a handler may hold a message for.
   */
  openLeaseMs?: number;
  /** Runs the handling inside the escalation's trace (telemetry's withTraceparent), so sink calls join the poll's operation. */
  continueTrace?<T>(traceparent: string | undefined, work: () => Promise<T>): Promise<T>;
}

export type HandleResult = { kind: "duplicate" } | { kind: "no-run" } | { kind: "ignored" } | { kind: "done"; action: TicketAction; ticketId: string };

/** Settle the message as dead-lettered now: retrying cannot help. The trigger maps the fields onto Service Bus's DeadLetterReason / DeadLetterErrorDescription. */
export class DeadLetter extends Error {
  readonly deadLetterReason: string;
  readonly deadLetterDescription: string;
  constructor(reason: string, description: string) {
    super(`${reason}: ${description}`);
    this.name = "DeadLetter";
    this.deadLetterReason = reason;
    // Service Bus keeps dead-letter properties in the message header: keep them short.
    this.deadLetterDescription = description.slice(0, 1024);
  }
}

/** Abandon the message after `retryAfterMs` (the trigger holds it that long), so the redelivery comes with a backoff. */
export class RetryLater extends Error {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = "RetryLater";
    this.retryAfterMs = retryAfterMs;
  }
}

/** Dead-letter reasons the handler uses (what `run-monitor dlq list` shows). */
export const DEAD_LETTER_REASONS = { sinkRejected: "SinkRejected", invalidMessage: "InvalidMessage" } as const;

const DEFAULT_BACKOFF: RetryBackoff = { baseMs: 2_000, maxMs: 60_000 };
const DEFAULT_OPEN_LEASE_MS = 10 * 60_000;

/**
 * Exponential backoff by delivery count (0 on the first delivery), at least the target's
 * Retry-After, at most `maxMs`, plus up to 20 % jitter so a sink outage does not come back as a
 * synchronized wave.
 */
export function retryDelayMs(deliveryCount: number, retryAfterMs: number | undefined, backoff: RetryBackoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponential = backoff.baseMs * 2 ** Math.min(Math.max(deliveryCount, 0), 20);
  const delay = Math.min(backoff.maxMs, Math.max(exponential, retryAfterMs ?? 0));
  return Math.round(delay * (1 + 0.2 * random()));
}

export const ticketIdFor = (key: string): string => "TKT-" + createHash("sha256").update(key, "utf8").digest("hex").slice(0, 12).toUpperCase();

const MAX_LEDGER_TRIES = 8;

/**
 * The trigger's entry point: a received message body in, a result out — or a thrown `DeadLetter` /
 * `RetryLater`. `deliveryCount` is Service Bus's (0 on the first delivery) and sets the backoff.
 */
export async function handleTicketMessage(deps: TicketDeps, body: unknown, delivery: { deliveryCount?: number } = {}): Promise<{ item: OutboxItem; result: HandleResult }> {
  let item: OutboxItem;
  try {
    item = outboxItemOf(parseEscalationEvent(body));
  } catch (e) {
    throw new DeadLetter(DEAD_LETTER_REASONS.invalidMessage, sanitize(ensureError(e).message.replace(/\s+/g, " ")));
  }
  return { item, result: await handleEscalationMessage(deps, item, delivery) };
}

export async function handleEscalationMessage(deps: TicketDeps, item: OutboxItem, delivery: { deliveryCount?: number } = {}): Promise<HandleResult> {
  try {
    return await (deps.continueTrace ? deps.continueTrace(item.traceparent, () => handle(deps, item)) : handle(deps, item));
  } catch (e) {
    throw settlementFor(e, delivery.deliveryCount ?? 0, deps.retryBackoff);
  }
}

/** Any failure → what the trigger should do with the message. */
export function settlementFor(e: unknown, deliveryCount: number, backoff?: RetryBackoff): DeadLetter | RetryLater {
  if (e instanceof DeadLetter) return e;
  if (e instanceof SinkError) {
    // SinkError messages are already scrubbed of credentials and sanitized (sinks/http.ts).
    if (e.permanent) return new DeadLetter(DEAD_LETTER_REASONS.sinkRejected, e.message);
    return withCause(new RetryLater(e.message, retryDelayMs(deliveryCount, e.retryAfterMs, backoff)), e);
  }
  const err = ensureError(e);
  const hint = e instanceof RetryLater ? e.retryAfterMs : undefined;
  return withCause(new RetryLater(sanitize(err.message), retryDelayMs(deliveryCount, hint, backoff)), err);
}

function withCause<T extends Error>(e: T, cause: unknown): T {
  (e as { cause?: unknown }).cause = cause;
  return e;
}

interface Context {
  deps: TicketDeps;
  item: OutboxItem;
  head: RunHead;
  trigger: TicketTrigger;
}

async function handle(deps: TicketDeps, item: OutboxItem): Promise<HandleResult> {
  const { project, runId } = item.ref;
  const msg = item.messageId;
  for (let attempt = 0; attempt < MAX_LEDGER_TRIES; attempt++) {
    const current = await deps.ledger.get(project, runId);
    const entry = current?.value;
    if (entry?.processed.includes(msg)) return { kind: "duplicate" };
    const stored = await deps.store.getHead(project, runId);
    if (!stored) return { kind: "no-run" };
    const ctx: Context = { deps, item, head: stored.head, trigger: { reason: item.reason, severity: item.severity, episode: item.episode, sideEffectCalls: item.partialSideEffects ? item.sideEffectCalls : undefined, remediation: item.remediation } };

    // A delivery of this message started before (and crashed or failed): finish what it decided.
    if (entry?.inFlight?.[msg]?.action === "grouped") return await notifyGroup(ctx, entry, true);

    if (item.kind === "recovered") {
      if (!entry) return { kind: "ignored" };
      // The escalation this recovery answers is still being opened (e.g. retrying a 5xx): come back later, don't lose the recovery.
      if (entry.state === "opening") throw new RetryLater(`ticket for ${runId} is still being opened`, 0);
      return await applyToTicket(ctx, entry, "resolved");
    }
    if (entry && entry.state !== "opening") return await applyToTicket(ctx, entry, "updated");

    if (!entry && deps.grouping) {
      const grouped = await claimGroupPlace(ctx, deps.grouping);
      if (grouped) continue; // the run's row now says "grouped": route again
    }
    const opened = await openTicket(ctx, current);
    if (opened) return opened;
  }
  throw new RetryLater(`ticket ledger for ${runId}: ${MAX_LEDGER_TRIES} conflicting writes in a row`, 0);
}

/** Read-modify-write of the run's row with ETag concurrency; `change` sees the latest version each try. */
async function record(deps: TicketDeps, project: string, runId: string, change: (e: LedgerEntry) => LedgerEntry): Promise<LedgerEntry> {
  for (let attempt = 0; attempt < MAX_LEDGER_TRIES; attempt++) {
    const cur = await deps.ledger.get(project, runId);
    if (!cur) throw new RetryLater(`ticket ledger row for ${runId} disappeared`, 0);
    const next = { ...change(cur.value), updatedAt: deps.now() };
    if ((await deps.ledger.put(next, cur.etag)) === "ok") return next;
  }
  throw new RetryLater(`ticket ledger for ${runId}: ${MAX_LEDGER_TRIES} conflicting writes in a row`, 0);
}

function sinkDone(e: LedgerEntry, msg: string, action: TicketAction, sink: string, since: Instant, externalId?: string): LedgerEntry {
  const prior = e.inFlight?.[msg];
  const sinks = prior?.sinks.includes(sink) ? prior.sinks : [...(prior?.sinks ?? []), sink];
  return {
    ...e,
    externalIds: externalId ? { ...e.externalIds, [sink]: externalId } : e.externalIds,
    inFlight: { ...e.inFlight, [msg]: { action: prior?.action ?? action, sinks, since: prior?.since ?? since } },
  };
}

function markProcessed(e: LedgerEntry, msg: string): LedgerEntry {
  const inFlight = { ...e.inFlight };
  delete inFlight[msg];
  return { ...e, processed: e.processed.includes(msg) ? e.processed : [...e.processed, msg], inFlight: Object.keys(inFlight).length ? inFlight : undefined };
}

/** Opens the run's own ticket; undefined when the claim raced another writer (route again). */
async function openTicket(ctx: Context, current: { value: LedgerEntry; etag: string } | undefined): Promise<HandleResult | undefined> {
  const { deps, item } = ctx;
  const { project, runId } = item.ref;
  const msg = item.messageId;
  const now = deps.now();
  const claim = { action: "opened" as const, sinks: [], since: now };
  let entry: LedgerEntry;
  let resuming: boolean;
  if (!current) {
    entry = { project, runId, ticketId: ticketIdFor(`${project}|${runId}`), state: "opening", externalIds: {}, processed: [], inFlight: { [msg]: claim }, openedAt: now, updatedAt: now };
    if ((await deps.ledger.put(entry, undefined)) === "conflict") return undefined;
    resuming = false;
  } else {
    // "opening": a delivery of this message crashed halfway, or another message is opening it right now.
    const lease = deps.openLeaseMs ?? DEFAULT_OPEN_LEASE_MS;
    const mine = current.value.inFlight?.[msg]?.action === "opened";
    const other = Object.entries(current.value.inFlight ?? {}).find(([id, f]) => id !== msg && f.action === "opened" && now - f.since < lease);
    if (!mine && other) throw new RetryLater(`ticket for ${runId} is being opened by ${other[0]}`, 0);
    entry = current.value;
    if (!mine) {
      entry = { ...entry, inFlight: { ...entry.inFlight, [msg]: claim }, updatedAt: now };
      if ((await deps.ledger.put(entry, current.etag)) === "conflict") return undefined;
    }
    resuming = true;
  }

  const bundle = await evidence(deps, ctx.head);
  const body = renderMarkdown(ticketDocument(bundle, ctx.trigger));
  const draft = draftOf(runId, bundle, ctx.trigger, body);
  const pending = deps.sinksFor(item.owner).filter((s) => !entry.externalIds[s.name]);
  const openedIds: Record<string, string> = {};
  for (const [i, sink] of pending.entries()) {
    // Only a delivery that found the row "opening" can meet a ticket a crashed delivery left behind.
    const found = resuming && sink.findByKey ? await sink.findByKey(draft.key) : undefined;
    const externalId = (found ?? (await sink.open(draft))).externalId;
    openedIds[sink.name] = externalId;
    // Record each sink as soon as it answers, so a crash before the next one costs no duplicate
    // here; the last one goes in with the final write.
    if (i < pending.length - 1) entry = await record(deps, project, runId, (e) => sinkDone(e, msg, "opened", sink.name, now, externalId));
  }
  let flipped = false;
  entry = await record(deps, project, runId, (e) => {
    flipped = e.state === "opening";
    // Every claim to open is settled now: a late delivery of a competing message will update instead.
    const done = { ...markProcessed(e, msg), externalIds: { ...e.externalIds, ...openedIds } };
    const inFlight = Object.fromEntries(Object.entries(done.inFlight ?? {}).filter(([, f]) => f.action !== "opened"));
    return { ...done, state: e.state === "opening" ? "open" : e.state, inFlight: Object.keys(inFlight).length ? inFlight : undefined };
  });
  const action: TicketAction = flipped ? "opened" : "updated";
  deps.onTicket?.({ at: deps.now(), runId, reason: item.reason, ticketId: entry.ticketId, action, body });
  return { kind: "done", action, ticketId: entry.ticketId };
}

/** A later escalation ("updated") or a recovery ("resolved") of a run that has its ticket or is in a group. */
async function applyToTicket(ctx: Context, entry: LedgerEntry, action: "updated" | "resolved"): Promise<HandleResult> {
  const { deps, item, trigger } = ctx;
  const { project, runId } = item.ref;
  const msg = item.messageId;
  const now = deps.now();
  const grouped = entry.state === "grouped";
  const bundle = await evidence(deps, ctx.head);
  const note =
    action === "resolved"
      ? `Recovered: the run ${grouped ? `${runId} ` : ""}left ${item.reason} (episode ${item.episode}).`
      : `New escalation${grouped ? ` of run ${runId}` : ""}: ${item.reason} (episode ${item.episode}, severity ${item.severity}).`;
  const body = renderMarkdown(grouped && action === "updated" ? ticketDocument(bundle, trigger) : updateDocument(bundle, trigger, note));
  const draft = draftOf(entry.groupKey ?? runId, bundle, trigger, body);
  const done = entry.inFlight?.[msg]?.sinks ?? [];
  const sinks = deps.sinksFor(item.owner).filter((s) => entry.externalIds[s.name] && !done.includes(s.name));
  for (const [i, sink] of sinks.entries()) {
    const id = entry.externalIds[sink.name];
    // A grouped run's ticket is the group's incident: other runs are still in it, so a recovery is a note, not a resolve.
    if (action === "resolved" && !grouped && sink.resolve) await sink.resolve(id, draft);
    else await sink.update(id, draft, note);
    // Progress matters only if a later sink can still fail; the last one is covered by markProcessed.
    if (i < sinks.length - 1) await record(deps, project, runId, (e) => sinkDone(e, msg, action, sink.name, now));
  }
  const final = await record(deps, project, runId, (e) => ({ ...markProcessed(e, msg), ...(action === "resolved" ? { resolvedAt: now } : {}) }));
  deps.onTicket?.({ at: deps.now(), runId, reason: item.reason, ticketId: final.ticketId, action, body });
  return { kind: "done", action, ticketId: final.ticketId };
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

const groupDraftKey = (g: Pick<StormGroup, "key" | "windowStart">): string => `group|${g.key}|${g.windowStart}`;

/**
 * Counts the run into its group's window (fixed windows of `windowSeconds`). The first
 * `threshold` runs open their own tickets; every later one is listed in one grouped incident,
 * opened by the first of them and updated by the rest. Returns true when the run joined the
 * incident (its ledger row now says "grouped" with the join in flight).
 */
async function claimGroupPlace(ctx: Context, g: StormGrouping): Promise<boolean> {
  const { deps, item, head } = ctx;
  const key = groupKeyOf(g, item, head);
  const windowStart = Math.floor(item.at / (g.windowSeconds * 1000)) * g.windowSeconds * 1000;
  let group: StormGroup | undefined;
  for (let attempt = 0; attempt < MAX_LEDGER_TRIES && !group; attempt++) {
    const cur = await deps.ledger.getGroup(key, windowStart);
    const next: StormGroup = cur?.value ?? { key, windowStart, ticketId: ticketIdFor(groupDraftKey({ key, windowStart })), runIds: [], externalIds: {} };
    // A redelivery finds its run listed already and keeps its place.
    if (next.runIds.includes(item.ref.runId)) group = next;
    else {
      next.runIds.push(item.ref.runId);
      if ((await deps.ledger.putGroup(next, cur?.etag)) === "ok") group = next;
    }
  }
  if (!group) throw new RetryLater(`storm group ${key}: ${MAX_LEDGER_TRIES} conflicting writes in a row`, 0);
  if (group.runIds.indexOf(item.ref.runId) < g.threshold) return false;
  const now = deps.now();
  const entry: LedgerEntry = {
    project: item.ref.project,
    runId: item.ref.runId,
    ticketId: group.ticketId,
    state: "grouped",
    externalIds: {},
    processed: [],
    inFlight: { [item.messageId]: { action: "grouped", sinks: [], since: now } },
    groupKey: groupDraftKey(group),
    group: { key: group.key, windowStart: group.windowStart, opener: group.runIds[g.threshold] === item.ref.runId },
    openedAt: now,
    updatedAt: now,
  };
  // A conflict means another delivery of this run wrote its row meanwhile: routing again sorts it out.
  await deps.ledger.put(entry, undefined);
  return true;
}

/** Puts a grouped run into the incident: the group's first run opens it in each sink, the others add a note. */
async function notifyGroup(ctx: Context, entry: LedgerEntry, resuming: boolean): Promise<HandleResult> {
  const { deps, item, trigger } = ctx;
  const { project, runId } = item.ref;
  const msg = item.messageId;
  const now = deps.now();
  const where = entry.group!;
  const bundle = await evidence(deps, ctx.head);
  const cur = await deps.ledger.getGroup(where.key, where.windowStart);
  if (!cur) throw new RetryLater(`storm group ${where.key} disappeared`, 0);
  let group = cur.value;
  const body = renderMarkdown([
    { kind: "paragraph", content: [{ text: `Grouped incident ${group.ticketId}: ${group.runIds.length} runs escalated as ` }, { text: item.reason, code: true }, { text: ` for ${where.key} since ${new Date(where.windowStart).toISOString()}. This run joined it:` }] },
    ...ticketDocument(bundle, trigger),
  ]);
  const draft = draftOf(groupDraftKey(where), bundle, trigger, body);
  const done = entry.inFlight?.[msg]?.sinks ?? [];
  for (const sink of deps.sinksFor(item.owner)) {
    if (done.includes(sink.name)) continue;
    let id = group.externalIds[sink.name];
    if (!id && where.opener) {
      const found = resuming && sink.findByKey ? await sink.findByKey(draft.key) : undefined;
      id = (found ?? (await sink.open({ ...draft, title: `[${item.severity}] storm: ${item.reason} — ${where.key} — ${group.runIds.length} runs` }))).externalId;
      group = await recordGroup(deps, where, sink.name, id);
    } else if (!id) {
      throw new RetryLater(`grouped incident ${group.ticketId} is not open in ${sink.name} yet`, 0);
    } else if (!where.opener) {
      await sink.update(id, draft, `Run ${runId} joined the group (${group.runIds.length} runs).`);
    }
    const externalId = id;
    await record(deps, project, runId, (e) => sinkDone(e, msg, "grouped", sink.name, now, externalId));
  }
  const final = await record(deps, project, runId, (e) => markProcessed(e, msg));
  deps.onTicket?.({ at: deps.now(), runId, reason: item.reason, ticketId: final.ticketId, action: "grouped", body });
  return { kind: "done", action: "grouped", ticketId: final.ticketId };
}

async function recordGroup(deps: TicketDeps, where: { key: string; windowStart: Instant }, sink: string, externalId: string): Promise<StormGroup> {
  for (let attempt = 0; attempt < MAX_LEDGER_TRIES; attempt++) {
    const cur = await deps.ledger.getGroup(where.key, where.windowStart);
    if (!cur) break;
    const next = { ...cur.value, externalIds: { ...cur.value.externalIds, [sink]: externalId } };
    if ((await deps.ledger.putGroup(next, cur.etag)) === "ok") return next;
  }
  throw new RetryLater(`storm group ${where.key}: could not record the incident's ID in ${sink}`, 0);
}
