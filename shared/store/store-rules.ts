import type { Instant } from "../model/run.js";
import type { OutboxItem, RunChange, RunHead, RunQuery } from "./types.js";

// Rules both RunStore implementations share, so the in-memory store behaves (and counts requests)
// exactly like the Table Storage one.

/** Azure Table Storage: at most 100 actions in one entity-group transaction. */
export const MAX_TRANSACTION_ACTIONS = 100;
/** Azure Table Storage returns at most 1,000 entities per query page. */
export const QUERY_PAGE_SIZE = 1000;
/** Steps kept in a head: the head must fit a 1 MB entity (64 KB per string property). */
export const MAX_STEPS_KEPT = 50;
/** A search without a run/thread/session/agent ID scans at most this many head rows. */
export const MAX_SEARCH_SCAN = 5000;
export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 1000;
export const DEFAULT_OUTBOX_LIMIT = 100;

/** Query pages a result of `rows` entities costs (an empty result is still one request). */
export const queryPages = (rows: number): number => Math.max(1, Math.ceil(rows / QUERY_PAGE_SIZE));

/** A run stays in the active index until it is terminal and its outbox is drained. */
export const isIndexed = (head: RunHead): boolean => !(head.terminal && head.pendingOutbox.length === 0);

/** The owner a caller registered (tag `owner`); policies may assign owners too, but search uses the registered one. */
export const registeredOwner = (head: RunHead): string => head.tags.owner ?? "";

export const runKeyOf = (project: string, runId: string): string => `${encodeKey(project)}|${encodeKey(runId)}`;

// Table keys forbid / \ # ? and control characters; `|` separates our key parts and `%` is the
// escape itself. Everything else stays readable in Storage Explorer.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const KEY_UNSAFE = /[%|/\\#?\u0000-\u001f\u007f-\u009f]/g;
export function encodeKey(value: string): string {
  return value.replace(KEY_UNSAFE, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
}

/** Keeps the newest steps only: older ones are history nobody polls on, and the head must stay small. */
export function compactHead(head: RunHead): RunHead {
  if (!head.steps || head.steps.length <= MAX_STEPS_KEPT) return head;
  return { ...head, steps: head.steps.slice(-MAX_STEPS_KEPT) };
}

/** Programming errors in a change: thrown, never reported as a conflict. */
export function checkChange(change: Omit<RunChange, "expectedEtag">): void {
  const { head, transitions, outbox } = change;
  const actions = 1 + transitions.length + outbox.length;
  if (actions > MAX_TRANSACTION_ACTIONS) {
    throw new Error(`a run change has ${actions} writes; one Table transaction holds at most ${MAX_TRANSACTION_ACTIONS}`);
  }
  const seqs = new Set<number>();
  for (const t of transitions) {
    if (t.project !== head.ref.project || t.runId !== head.ref.runId) throw new Error(`transition ${t.seq} belongs to another run`);
    if (!Number.isInteger(t.seq) || t.seq < 0) throw new Error(`transition seq must be a non-negative integer, got ${t.seq}`);
    if (seqs.has(t.seq)) throw new Error(`transition seq ${t.seq} appears twice in one change`);
    seqs.add(t.seq);
  }
  const ids = new Set<string>();
  for (const o of outbox) {
    if (ids.has(o.messageId)) throw new Error(`outbox message ${o.messageId} appears twice in one change`);
    ids.add(o.messageId);
  }
}

export type LookupKind = "run" | "thread" | "session" | "agent";

/** The lookup rows a head needs: by run ID (project-less search), thread, session and agent. */
export function lookupKeysOf(head: RunHead): { kind: LookupKind; value: string }[] {
  const keys: { kind: LookupKind; value: string }[] = [{ kind: "run", value: head.ref.runId }];
  if (head.ref.threadId) keys.push({ kind: "thread", value: head.ref.threadId });
  if (head.session) keys.push({ kind: "session", value: head.session });
  if (head.agentId) keys.push({ kind: "agent", value: head.agentId });
  return keys;
}

/** The most selective lookup a query allows, if any. */
export function lookupFor(q: RunQuery): { kind: LookupKind; value: string } | undefined {
  if (q.runId) return { kind: "run", value: q.runId };
  if (q.threadId) return { kind: "thread", value: q.threadId };
  if (q.session) return { kind: "session", value: q.session };
  if (q.agentId) return { kind: "agent", value: q.agentId };
  return undefined;
}

/** What a scan filters server-side (top-level head-row columns). `reason` is checked afterwards. */
export function matchesScanColumns(head: RunHead, q: RunQuery): boolean {
  if (q.project !== undefined && head.ref.project !== q.project) return false;
  if (q.status !== undefined && head.status !== q.status) return false;
  if (q.api !== undefined && head.ref.api !== q.api) return false;
  if (q.owner !== undefined && registeredOwner(head) !== q.owner) return false;
  if (q.from !== undefined && head.registeredAt < q.from) return false;
  if (q.to !== undefined && head.registeredAt > q.to) return false;
  return true;
}

/** Every filter of a query; `from`/`to` bound registeredAt, both inclusive. */
export function matchesQuery(head: RunHead, q: RunQuery): boolean {
  if (!matchesScanColumns(head, q)) return false;
  if (q.runId !== undefined && head.ref.runId !== q.runId) return false;
  if (q.threadId !== undefined && head.ref.threadId !== q.threadId) return false;
  if (q.session !== undefined && head.session !== q.session) return false;
  if (q.agentId !== undefined && head.agentId !== q.agentId) return false;
  if (q.reason !== undefined && !head.episodes[q.reason]) return false;
  return true;
}

/** Newest registration first; ties in key order so pages are stable. */
export function newestFirst<T extends { registeredAt: Instant; key: string }>(a: T, b: T): number {
  return b.registeredAt - a.registeredAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Outbox order: oldest decision first, ties by message ID. */
export function oldestOutboxFirst(a: OutboxItem, b: OutboxItem): number {
  return a.at - b.at || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0);
}
