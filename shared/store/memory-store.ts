import type { Instant } from "../model/run.js";
import { searchRuns, type LookupHit } from "./search.js";
import {
  DEFAULT_OUTBOX_LIMIT,
  MAX_SEARCH_SCAN,
  MAX_TRANSACTION_ACTIONS,
  checkChange,
  compactHead,
  isIndexed,
  lookupKeysOf,
  matchesScanColumns,
  oldestOutboxFirst,
  queryPages,
  runKeyOf,
  type LookupKind,
} from "./store-rules.js";
import type { CommitResult, OutboxItem, RunChange, RunHead, RunQuery, RunStore, StoredHead, StoreCounters, Transition } from "./types.js";

// The RunStore of `simulate --stack memory` and the 100k-run benchmark. It keeps the Table store's
// semantics (ETags, conflicts, the active index as a cache, paging) and counts the requests the
// Table store would send for the same call, so a benchmark on either compares fairly.
// Every read hands out a fresh copy, as Table Storage would. Memory is what limits it (the
// benchmark holds 100k active runs in one Functions-sized process), so one record per run does
// every job: it is the head (kept as compact JSON, see HeadCodec), the active-index entry (in the
// memory store an index entry always equals its head, so a copy would only cost memory) and the
// lookup hit; ETags are numbers until read, and transitions one small JSON string.

/** One transition row without its run's keys (the record holds them). */
type TransitionTuple = [seq: number, at: Instant, from: Transition["from"], to: Transition["to"]];

interface RunRecord extends LookupHit {
  /** The head as HeadCodec JSON. */
  json: string;
  etag: number;
  updatedAt: Instant;
  terminal: boolean;
  pendingCount: number;
  /** JSON of TransitionTuple[], sorted by seq. */
  transitions: string;
  outbox?: Map<string, OutboxItem>;
}

/** Key orders seen so far are shared; past this many distinct ones a head is kept as plain JSON. */
const MAX_HEAD_SHAPES = 512;
const REF_KEYS = "project,api,runId,threadId";

/**
 * Heads as compact JSON: `[shape, ...values]`, the values in the order of a key list every head
 * of that shape shares, and `ref` as `[project, api, runId, threadId]`. About half the size of
 * `JSON.stringify(head)` (key names are most of it), with the same round trip: undefined fields
 * are left out and restored as absent, as plain JSON would.
 */
class HeadCodec {
  private readonly shapes: string[][] = [];
  private readonly shapeIds = new Map<string, number>();

  encode(head: RunHead): string {
    const h = head as unknown as Record<string, unknown>;
    const keys = Object.keys(h).filter((k) => h[k] !== undefined);
    const signature = keys.join(",");
    let id = this.shapeIds.get(signature);
    if (id === undefined) {
      if (this.shapes.length >= MAX_HEAD_SHAPES) return JSON.stringify(head);
      id = this.shapes.push(keys) - 1;
      this.shapeIds.set(signature, id);
    }
    const values: unknown[] = [id];
    for (const k of keys) values.push(k === "ref" ? this.encodeRef(head.ref) : h[k]);
    return JSON.stringify(values);
  }

  decode(json: string): RunHead {
    const parsed = JSON.parse(json) as unknown;
    if (!Array.isArray(parsed)) return parsed as RunHead;
    const keys = this.shapes[parsed[0] as number];
    const head: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const v = parsed[i + 1];
      head[keys[i]] = keys[i] === "ref" && Array.isArray(v) ? { project: v[0], api: v[1], runId: v[2], threadId: v[3] } : v;
    }
    return head as unknown as RunHead;
  }

  private encodeRef(ref: RunHead["ref"]): unknown {
    const r = ref as unknown as Record<string, unknown>;
    const keys = Object.keys(r).filter((k) => r[k] !== undefined);
    return keys.join(",") === REF_KEYS ? [ref.project, ref.api, ref.runId, ref.threadId] : ref;
  }
}

const formatEtag = (n: number): string => `W/"m${n}"`;
const tuplesOf = (rec: RunRecord): TransitionTuple[] => JSON.parse(rec.transitions) as TransitionTuple[];

export class MemoryRunStore implements RunStore {
  readonly counters: StoreCounters = { reads: 0, writes: 0 };
  private etagSeq = 0;
  private readonly codec = new HeadCodec();
  private readonly runs = new Map<string, RunRecord>();
  /** The active index: shard → run key → the run's record. */
  private readonly index = new Map<number, Map<string, RunRecord>>();
  /** Index entries with pending outbox rows (the Table store's `pending eq true` filter). */
  private readonly pendingIndex = new Map<string, RunRecord>();
  private readonly activeCounts = new Map<string, Map<number, number>>();
  /**
   * Lookup rows per kind, keyed by the ID itself. Most IDs (run, thread, session) name one run:
   * such a key holds the record itself, not a Map.
   */
  private readonly lookups = new Map<LookupKind, Map<string, RunRecord | Map<string, RunRecord>>>();
  /** One copy of each project name, however many runs carry it. */
  private readonly projects = new Map<string, string>();

  async init(): Promise<void> {
    this.counters.writes += 3; // three createTable calls
  }

  async getHead(project: string, runId: string): Promise<StoredHead | undefined> {
    this.counters.reads++;
    const rec = this.runs.get(runKeyOf(project, runId));
    return rec ? this.storedHeadOf(rec) : undefined;
  }

  async createRun(change: Omit<RunChange, "expectedEtag">): Promise<"created" | "exists"> {
    checkChange(change);
    const head = compactHead(change.head);
    const key = runKeyOf(head.ref.project, head.ref.runId);
    this.counters.writes++; // the creating transaction (fails with 409 when the head exists)
    const existing = this.runs.get(key);
    if (existing) {
      this.counters.reads++; // is the index entry there?
      if (!this.index.get(head.shard)?.has(key)) this.counters.reads++; // the head, to see whether it should be
      return "exists";
    }
    let project = this.projects.get(head.ref.project);
    if (project === undefined) this.projects.set(head.ref.project, (project = head.ref.project));
    const rec: RunRecord = {
      project,
      runId: head.ref.runId,
      registeredAt: head.registeredAt,
      key,
      json: this.codec.encode(head),
      etag: this.nextEtag(),
      updatedAt: head.updatedAt,
      terminal: head.terminal,
      pendingCount: head.pendingOutbox.length,
      transitions: JSON.stringify(change.transitions.map(tupleOf).sort((a, b) => a[0] - b[0])),
    };
    if (change.outbox.length > 0) rec.outbox = new Map(change.outbox.map((o) => [o.messageId, { ...o }]));
    this.runs.set(key, rec);
    const lookupKeys = lookupKeysOf(head);
    this.counters.writes += lookupKeys.length;
    for (const { kind, value } of lookupKeys) this.putLookup(kind, value, rec);
    if (isIndexed(head)) this.enterIndex(key, head, rec);
    return "created";
  }

  async countActive(project: string): Promise<number> {
    const rows = this.activeCounts.get(project);
    this.counters.reads += queryPages(rows?.size ?? 0);
    let n = 0;
    for (const v of rows?.values() ?? []) n += Math.max(0, v);
    return n;
  }

  async nonEmptyShards(): Promise<number[]> {
    const shards = new Set<number>();
    let rows = 0;
    for (const perShard of this.activeCounts.values()) {
      for (const [shard, n] of perShard) {
        if (n > 0) {
          rows++;
          shards.add(shard);
        }
      }
    }
    this.counters.reads += queryPages(rows);
    return [...shards].sort((a, b) => a - b);
  }

  async listShard(shard: number): Promise<StoredHead[]> {
    const entries = this.index.get(shard);
    this.counters.reads += queryPages(entries?.size ?? 0);
    return [...(entries?.values() ?? [])].map((rec) => this.storedHeadOf(rec));
  }

  async commit(change: RunChange): Promise<CommitResult> {
    checkChange(change);
    const head = compactHead(change.head);
    const key = runKeyOf(head.ref.project, head.ref.runId);
    const rec = this.runs.get(key);
    this.counters.writes++; // the transaction
    const tuples = rec && change.transitions.length > 0 ? tuplesOf(rec) : [];
    const clash =
      !rec ||
      formatEtag(rec.etag) !== change.expectedEtag ||
      change.transitions.some((t) => tuples.some((x) => x[0] === t.seq)) ||
      change.outbox.some((o) => rec.outbox?.has(o.messageId));
    if (!rec || clash) {
      this.healIndexAfterConflict(key);
      return { ok: false, reason: "conflict" };
    }
    rec.json = this.codec.encode(head);
    rec.etag = this.nextEtag();
    rec.updatedAt = head.updatedAt;
    rec.terminal = head.terminal;
    rec.pendingCount = head.pendingOutbox.length;
    if (change.transitions.length > 0) rec.transitions = JSON.stringify([...tuples, ...change.transitions.map(tupleOf)].sort((a, b) => a[0] - b[0]));
    if (change.outbox.length > 0) {
      rec.outbox ??= new Map();
      for (const o of change.outbox) rec.outbox.set(o.messageId, { ...o });
    }
    if (head.agentId && change.transitions.some((t) => t.from === null)) {
      this.counters.writes++;
      this.putLookup("agent", head.agentId, rec);
    }
    this.refreshIndex(key, head, rec);
    return { ok: true, etag: formatEtag(rec.etag) };
  }

  async listPendingOutbox(limit = DEFAULT_OUTBOX_LIMIT): Promise<OutboxItem[]> {
    this.counters.reads += queryPages(this.pendingIndex.size);
    const entries = [...this.pendingIndex.entries()].sort(([ka, a], [kb, b]) => a.updatedAt - b.updatedAt || (ka < kb ? -1 : ka > kb ? 1 : 0));
    const items: OutboxItem[] = [];
    for (const [, rec] of entries) {
      if (items.length >= limit) break;
      this.counters.reads++;
      let pending = 0;
      for (const o of rec.outbox?.values() ?? []) {
        if (o.status !== "pending") continue;
        items.push({ ...o });
        pending++;
      }
      // Flagged pending with no pending row: the Table store reads the head and refreshes the entry.
      if (pending === 0) {
        this.counters.reads++;
        this.counters.writes++;
      }
    }
    return items.sort(oldestOutboxFirst).slice(0, limit);
  }

  async markPublished(project: string, runId: string, messageIds: string[]): Promise<void> {
    const key = runKeyOf(project, runId);
    this.counters.reads++;
    const rec = this.runs.get(key);
    if (!rec) return;
    const head = this.codec.decode(rec.json);
    const marking = new Set(messageIds.filter((id) => head.pendingOutbox.includes(id)));
    if (marking.size === 0) return;
    if (1 + marking.size > MAX_TRANSACTION_ACTIONS) throw new Error(`markPublished: at most ${MAX_TRANSACTION_ACTIONS - 1} messages at once`);
    for (const id of marking) if (!rec.outbox?.has(id)) throw new Error(`markPublished: run ${runId} has no outbox row ${id}`);
    this.counters.writes++;
    const next: RunHead = { ...head, pendingOutbox: head.pendingOutbox.filter((id) => !marking.has(id)) };
    for (const id of marking) rec.outbox!.get(id)!.status = "sent";
    rec.json = this.codec.encode(next);
    rec.etag = this.nextEtag();
    rec.pendingCount = next.pendingOutbox.length;
    this.refreshIndex(key, next, rec);
  }

  async listTransitions(project: string, runId: string): Promise<Transition[]> {
    const rec = this.runs.get(runKeyOf(project, runId));
    const tuples = rec ? tuplesOf(rec) : [];
    this.counters.reads += queryPages(tuples.length);
    return tuples.map(([seq, at, from, to]) => ({ project: rec!.project, runId: rec!.runId, seq, at, from, to }));
  }

  async listOutbox(project: string, runId: string): Promise<OutboxItem[]> {
    const rec = this.runs.get(runKeyOf(project, runId));
    this.counters.reads += queryPages(rec?.outbox?.size ?? 0);
    return [...(rec?.outbox?.values() ?? [])].map((o) => ({ ...o })).sort(oldestOutboxFirst);
  }

  async searchRuns(query: RunQuery): Promise<{ runs: RunHead[]; continuationToken?: string }> {
    return searchRuns(
      {
        lookup: async (kind, value, project) => {
          const hits = this.lookupHits(kind, value).filter((h) => project === undefined || h.project === project);
          this.counters.reads += queryPages(hits.length);
          return hits.map((h) => ({ project: h.project, runId: h.runId, registeredAt: h.registeredAt, key: h.key }));
        },
        getHead: async (project, runId) => (await this.getHead(project, runId))?.head,
        scanHeads: async (q) => {
          const found: { head: RunHead; key: string }[] = [];
          for (const [key, rec] of this.runs) {
            if (q.from !== undefined && rec.registeredAt < q.from) continue;
            if (q.to !== undefined && rec.registeredAt > q.to) continue;
            const head = this.codec.decode(rec.json);
            if (!matchesScanColumns(head, q)) continue;
            found.push({ head, key });
            if (found.length >= MAX_SEARCH_SCAN) break;
          }
          this.counters.reads += queryPages(found.length);
          return found;
        },
      },
      query,
    );
  }

  async purgeHistory(before: Instant): Promise<number> {
    const doomed = [...this.runs.entries()].filter(([, r]) => r.terminal && r.pendingCount === 0 && r.updatedAt < before);
    this.counters.reads += queryPages(doomed.length);
    for (const [key, rec] of doomed) {
      const head = this.codec.decode(rec.json);
      const rows = 1 + tuplesOf(rec).length + (rec.outbox?.size ?? 0);
      this.counters.reads += queryPages(rows);
      const lookupKeys = lookupKeysOf(head);
      this.counters.writes += lookupKeys.length;
      for (const { kind, value } of lookupKeys) this.dropLookup(kind, value, key);
      this.removeFromIndex(key, head.shard, head.ref.project);
      this.counters.writes += Math.ceil(rows / MAX_TRANSACTION_ACTIONS);
      this.runs.delete(key);
    }
    return doomed.length;
  }

  /** Heads held (for tests and the benchmark's memory report). */
  get size(): number {
    return this.runs.size;
  }

  private storedHeadOf(rec: RunRecord): StoredHead {
    return { head: this.codec.decode(rec.json), etag: formatEtag(rec.etag) };
  }

  private nextEtag(): number {
    return ++this.etagSeq;
  }

  private putLookup(kind: LookupKind, value: string, rec: RunRecord): void {
    let byValue = this.lookups.get(kind);
    if (!byValue) this.lookups.set(kind, (byValue = new Map()));
    const rows = byValue.get(value);
    if (!rows || (!(rows instanceof Map) && rows.key === rec.key)) byValue.set(value, rec);
    else if (rows instanceof Map) rows.set(rec.key, rec);
    else byValue.set(value, new Map([[rows.key, rows], [rec.key, rec]]));
  }

  private lookupHits(kind: LookupKind, value: string): RunRecord[] {
    const rows = this.lookups.get(kind)?.get(value);
    return rows === undefined ? [] : rows instanceof Map ? [...rows.values()] : [rows];
  }

  private dropLookup(kind: LookupKind, value: string, key: string): void {
    const byValue = this.lookups.get(kind);
    const rows = byValue?.get(value);
    if (rows instanceof Map) {
      rows.delete(key);
      if (rows.size === 0) byValue!.delete(value);
    } else if (rows?.key === key) byValue!.delete(value);
  }

  private enterIndex(key: string, head: RunHead, rec: RunRecord): void {
    this.addActive(head.ref.project, head.shard, 1);
    this.counters.writes++; // create the index entry
    let shard = this.index.get(head.shard);
    if (!shard) this.index.set(head.shard, (shard = new Map()));
    this.setEntry(shard, key, rec);
  }

  /** After a write: replace the index copy (never resurrecting a removed one), or remove it. */
  private refreshIndex(key: string, head: RunHead, rec: RunRecord): void {
    if (!isIndexed(head)) {
      this.removeFromIndex(key, head.shard, head.ref.project);
      return;
    }
    this.counters.writes++;
    const shard = this.index.get(head.shard);
    if (shard?.has(key)) this.setEntry(shard, key, rec);
  }

  private setEntry(shard: Map<string, RunRecord>, key: string, rec: RunRecord): void {
    shard.set(key, rec);
    if (rec.pendingCount > 0) this.pendingIndex.set(key, rec);
    else this.pendingIndex.delete(key);
  }

  private removeFromIndex(key: string, shardNo: number, project: string): void {
    this.counters.writes++;
    const shard = this.index.get(shardNo);
    if (!shard?.delete(key)) return;
    this.pendingIndex.delete(key);
    if (shard.size === 0) this.index.delete(shardNo);
    this.addActive(project, shardNo, -1);
  }

  /** The Table store reads the head, then removes or refreshes a possibly stale entry; here none can be stale. */
  private healIndexAfterConflict(_key: string): void {
    this.counters.reads++;
    this.counters.writes++;
  }

  private addActive(project: string, shard: number, delta: number): void {
    this.counters.reads++;
    this.counters.writes++;
    let perShard = this.activeCounts.get(project);
    if (!perShard) this.activeCounts.set(project, (perShard = new Map()));
    perShard.set(shard, (perShard.get(shard) ?? 0) + delta);
  }
}

function tupleOf(t: Transition): TransitionTuple {
  return [t.seq, t.at, t.from, t.to];
}

export function createMemoryRunStore(): MemoryRunStore {
  return new MemoryRunStore();
}
