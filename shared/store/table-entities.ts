import { isRunStatus, type Instant } from "../model/run.js";
import { encodeKey, registeredOwner, type LookupKind } from "./store-rules.js";
import type { Entity, StoredEntity } from "./table-requests.js";
import type { OutboxItem, RunHead, Transition } from "./types.js";

// How the run model maps onto Table entities. Times are Int64 columns so OData range filters
// compare them as numbers (a JSON number above 2^31 would be stored as Double, and Table filters
// are type-sensitive).

export const HEAD_ROW = "head";
export const TRANSITION_PREFIX = "t|";
export const OUTBOX_PREFIX = "o|";
/** One past `|` in code-point order: `RowKey lt 't}'` ends the `t|` range. */
export const rangeEnd = (prefix: string): string => prefix.slice(0, -1) + "}";

export const transitionRowKey = (seq: number): string => TRANSITION_PREFIX + String(seq).padStart(9, "0");
export const outboxRowKey = (messageId: string): string => OUTBOX_PREFIX + encodeKey(messageId);
export const shardPartition = (shard: number): string => `shard|${shard}`;
export const countPartition = (project: string): string => `count|${encodeKey(project)}`;
export const lookupPartition = (kind: LookupKind, value: string): string => `${kind}|${encodeKey(value)}`;

export const int64 = (n: Instant): { value: string; type: "Int64" } => ({ value: String(Math.floor(n)), type: "Int64" });
/** OData literal for an Int64 column. */
export const int64Literal = (n: Instant): string => `${Math.floor(n)}L`;

export function readNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v); // the SDK reads Int64 columns as bigint
  if (typeof v === "string") return Number(v);
  if (v && typeof v === "object" && "value" in v) return Number((v as { value: unknown }).value);
  return NaN;
}

// A string property holds at most 64 KiB (32K UTF-16 units); an entity at most 1 MiB. Heads are
// compacted first (last 50 steps), so more than one chunk is rare; 15 chunks stay under 1 MiB.
const CHUNK_CHARS = 30_000;
const MAX_CHUNKS = 15;

function headChunks(head: RunHead): Record<string, string | number> {
  const json = JSON.stringify(head);
  const props: Record<string, string | number> = {};
  let n = 0;
  for (let i = 0; i < json.length; n++) {
    let end = Math.min(i + CHUNK_CHARS, json.length);
    const last = json.charCodeAt(end - 1);
    if (end < json.length && last >= 0xd800 && last <= 0xdbff) end--; // never split a surrogate pair
    props[n === 0 ? "head" : `head${n}`] = json.slice(i, end);
    i = end;
  }
  if (n > MAX_CHUNKS) throw new Error(`run ${head.ref.runId}: head is ${json.length} characters, over the 1 MiB entity limit`);
  props.headChunks = n;
  return props;
}

export function headOf(e: StoredEntity): RunHead {
  const n = readNumber(e.headChunks) || 1;
  let json = "";
  for (let i = 0; i < n; i++) json += String(e[i === 0 ? "head" : `head${i}`] ?? "");
  return JSON.parse(json) as RunHead;
}

export function headEntity(partitionKey: string, head: RunHead): Entity {
  return {
    partitionKey,
    rowKey: HEAD_ROW,
    project: head.ref.project,
    runId: head.ref.runId,
    api: head.ref.api,
    threadId: head.ref.threadId,
    session: head.session ?? "",
    agentId: head.agentId ?? "",
    owner: registeredOwner(head),
    status: head.status ?? "",
    terminal: head.terminal,
    pendingCount: head.pendingOutbox.length,
    shard: head.shard,
    registeredAt: int64(head.registeredAt),
    updatedAt: int64(head.updatedAt),
    ...headChunks(head),
  };
}

export function indexEntity(runKey: string, head: RunHead, headEtag: string): Entity {
  return {
    partitionKey: shardPartition(head.shard),
    rowKey: runKey,
    project: head.ref.project,
    runId: head.ref.runId,
    pending: head.pendingOutbox.length > 0,
    updatedAt: int64(head.updatedAt),
    headEtag,
    ...headChunks(head),
  };
}

export function lookupEntity(kind: LookupKind, value: string, runKey: string, head: RunHead): Entity {
  return {
    partitionKey: lookupPartition(kind, value),
    rowKey: runKey,
    project: head.ref.project,
    runId: head.ref.runId,
    registeredAt: int64(head.registeredAt),
  };
}

export function transitionEntity(runKey: string, t: Transition): Entity {
  return {
    partitionKey: runKey,
    rowKey: transitionRowKey(t.seq),
    project: t.project,
    runId: t.runId,
    seq: t.seq,
    at: int64(t.at),
    from: t.from ?? "",
    to: t.to,
  };
}

export function transitionOf(e: StoredEntity): Transition {
  const from = String(e.from ?? "");
  const to = String(e.to);
  if (!isRunStatus(to) || (from !== "" && !isRunStatus(from))) throw new Error(`transition row ${e.partitionKey}/${e.rowKey} has an unknown status`);
  return { project: String(e.project), runId: String(e.runId), seq: readNumber(e.seq), at: readNumber(e.at), from: from === "" ? null : from, to };
}

export function outboxEntity(runKey: string, o: OutboxItem): Entity {
  const { status, ...rest } = o;
  return { partitionKey: runKey, rowKey: outboxRowKey(o.messageId), status, at: int64(o.at), item: JSON.stringify(rest) };
}

export function outboxOf(e: StoredEntity): OutboxItem {
  const rest = JSON.parse(String(e.item)) as Omit<OutboxItem, "status">;
  return { ...rest, status: e.status === "sent" ? "sent" : "pending" };
}
