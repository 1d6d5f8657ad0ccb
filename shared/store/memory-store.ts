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
// Heads are kept as JSON strings: the leanest form in V8, shared by the run and its index entry,
// and every read hands out a fresh copy as Table Storage would.

interface RunRecord {
  json: string;
  etag: string;
  registeredAt: Instant;
  updatedAt: Instant;
  terminal: boolean;
  pendingCount: number;
  hit: LookupHit;
  transitions: Transition[];
  outbox?: Map<string, OutboxItem>;
}

interface IndexEntry {
  json: string;
  etag: string;
  shard: number;
  updatedAt: Instant;
  pending: boolean;
}

export class MemoryRunStore implements RunStore {
  readonly counters: StoreCounters = { reads: 0, writes: 0 };
  private etagSeq = 0;
  private readonly runs = new Map<string, RunRecord>();
  private readonly index = new Map<number, Map<string, IndexEntry>>();
  /** Index entries with pending outbox rows (the Table store's `pending eq true` filter). */
  private readonly pendingIndex = new Map<string, IndexEntry>();
  private readonly activeCounts = new Map<string, Map<number, number>>();
  /** Most lookup keys (run, thread, session IDs) name one run: such a key holds the hit itself, not a Map. */
  private readonly lookups = new Map<string, LookupHit | Map<string, LookupHit>>();

  async init(): Promise<void> {
    this.counters.writes += 3; // three createTable calls
  }

  async getHead(project: string, runId: string): Promise<StoredHead | undefined> {
    this.counters.reads++;
    const rec = this.runs.get(runKeyOf(project, runId));
    return rec ? { head: JSON.parse(rec.json) as RunHead, etag: rec.etag } : undefined;
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
    const json = JSON.stringify(head);
    const rec: RunRecord = {
      json,
      etag: this.nextEtag(),
      registeredAt: head.registeredAt,
      updatedAt: head.updatedAt,
      terminal: head.terminal,
      pendingCount: head.pendingOutbox.length,
      hit: { project: head.ref.project, runId: head.ref.runId, registeredAt: head.registeredAt, key },
      transitions: change.transitions.map((t) => ({ ...t })).sort((a, b) => a.seq - b.seq),
    };
    if (change.outbox.length > 0) rec.outbox = new Map(change.outbox.map((o) => [o.messageId, { ...o }]));
    this.runs.set(key, rec);
    const lookupKeys = lookupKeysOf(head);
    this.counters.writes += lookupKeys.length;
    for (const { kind, value } of lookupKeys) this.putLookup(kind, value, rec.hit);
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
    return [...(entries?.values() ?? [])].map((e) => ({ head: JSON.parse(e.json) as RunHead, etag: e.etag }));
  }

  async commit(change: RunChange): Promise<CommitResult> {
    checkChange(change);
    const head = compactHead(change.head);
    const key = runKeyOf(head.ref.project, head.ref.runId);
    const rec = this.runs.get(key);
    this.counters.writes++; // the transaction
    const clash =
      !rec ||
      rec.etag !== change.expectedEtag ||
      change.transitions.some((t) => rec.transitions.some((x) => x.seq === t.seq)) ||
      change.outbox.some((o) => rec.outbox?.has(o.messageId));
    if (!rec || clash) {
      this.healIndexAfterConflict(key);
      return { ok: false, reason: "conflict" };
    }
    rec.json = JSON.stringify(head);
    rec.etag = this.nextEtag();
    rec.updatedAt = head.updatedAt;
    rec.terminal = head.terminal;
    rec.pendingCount = head.pendingOutbox.length;
    if (change.transitions.length > 0) rec.transitions = [...rec.transitions, ...change.transitions.map((t) => ({ ...t }))].sort((a, b) => a.seq - b.seq);
    if (change.outbox.length > 0) {
      rec.outbox ??= new Map();
      for (const o of change.outbox) rec.outbox.set(o.messageId, { ...o });
    }
    if (head.agentId && change.transitions.some((t) => t.from === null)) {
      this.counters.writes++;
      this.putLookup("agent", head.agentId, rec.hit);
    }
    this.refreshIndex(key, head, rec);
    return { ok: true, etag: rec.etag };
  }

  async listPendingOutbox(limit = DEFAULT_OUTBOX_LIMIT): Promise<OutboxItem[]> {
    this.counters.reads += queryPages(this.pendingIndex.size);
    const entries = [...this.pendingIndex.entries()].sort(([ka, a], [kb, b]) => a.updatedAt - b.updatedAt || (ka < kb ? -1 : ka > kb ? 1 : 0));
    const items: OutboxItem[] = [];
    for (const [key] of entries) {
      if (items.length >= limit) break;
      this.counters.reads++;
      for (const o of this.runs.get(key)?.outbox?.values() ?? []) if (o.status === "pending") items.push({ ...o });
    }
    return items.sort(oldestOutboxFirst).slice(0, limit);
  }

  async markPublished(project: string, runId: string, messageIds: string[]): Promise<void> {
    const key = runKeyOf(project, runId);
    this.counters.reads++;
    const rec = this.runs.get(key);
    if (!rec) return;
    const head = JSON.parse(rec.json) as RunHead;
    const marking = new Set(messageIds.filter((id) => head.pendingOutbox.includes(id)));
    if (marking.size === 0) return;
    if (1 + marking.size > MAX_TRANSACTION_ACTIONS) throw new Error(`markPublished: at most ${MAX_TRANSACTION_ACTIONS - 1} messages at once`);
    for (const id of marking) if (!rec.outbox?.has(id)) throw new Error(`markPublished: run ${runId} has no outbox row ${id}`);
    this.counters.writes++;
    const next: RunHead = { ...head, pendingOutbox: head.pendingOutbox.filter((id) => !marking.has(id)) };
    for (const id of marking) rec.outbox!.get(id)!.status = "sent";
    rec.json = JSON.stringify(next);
    rec.etag = this.nextEtag();
    rec.pendingCount = next.pendingOutbox.length;
    this.refreshIndex(key, next, rec);
  }

  async listTransitions(project: string, runId: string): Promise<Transition[]> {
    const rec = this.runs.get(runKeyOf(project, runId));
    this.counters.reads += queryPages(rec?.transitions.length ?? 0);
    return (rec?.transitions ?? []).map((t) => ({ ...t }));
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
          return hits;
        },
        getHead: async (project, runId) => (await this.getHead(project, runId))?.head,
        scanHeads: async (q) => {
          const found: { head: RunHead; key: string }[] = [];
          for (const [key, rec] of this.runs) {
            if (q.from !== undefined && rec.registeredAt < q.from) continue;
            if (q.to !== undefined && rec.registeredAt > q.to) continue;
            const head = JSON.parse(rec.json) as RunHead;
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
      const head = JSON.parse(rec.json) as RunHead;
      const rows = 1 + rec.transitions.length + (rec.outbox?.size ?? 0);
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

  private nextEtag(): string {
    return `W/"m${++this.etagSeq}"`;
  }

  private putLookup(kind: LookupKind, value: string, hit: LookupHit): void {
    const k = `${kind}|${value}`;
    const rows = this.lookups.get(k);
    if (!rows || (!(rows instanceof Map) && rows.key === hit.key)) this.lookups.set(k, hit);
    else if (rows instanceof Map) rows.set(hit.key, hit);
    else this.lookups.set(k, new Map([[rows.key, rows], [hit.key, hit]]));
  }

  private lookupHits(kind: LookupKind, value: string): LookupHit[] {
    const rows = this.lookups.get(`${kind}|${value}`);
    return rows === undefined ? [] : rows instanceof Map ? [...rows.values()] : [rows];
  }

  private dropLookup(kind: LookupKind, value: string, key: string): void {
    const k = `${kind}|${value}`;
    const rows = this.lookups.get(k);
    if (rows instanceof Map) {
      rows.delete(key);
      if (rows.size === 0) this.lookups.delete(k);
    } else if (rows?.key === key) this.lookups.delete(k);
  }

  private indexEntryOf(head: RunHead, rec: RunRecord): IndexEntry {
    return { json: rec.json, etag: rec.etag, shard: head.shard, updatedAt: head.updatedAt, pending: head.pendingOutbox.length > 0 };
  }

  private enterIndex(key: string, head: RunHead, rec: RunRecord): void {
    this.addActive(head.ref.project, head.shard, 1);
    this.counters.writes++; // create the index entry
    let shard = this.index.get(head.shard);
    if (!shard) this.index.set(head.shard, (shard = new Map()));
    this.setEntry(shard, key, this.indexEntryOf(head, rec));
  }

  /** After a write: replace the index copy (never resurrecting a removed one), or remove it. */
  private refreshIndex(key: string, head: RunHead, rec: RunRecord): void {
    if (!isIndexed(head)) {
      this.removeFromIndex(key, head.shard, head.ref.project);
      return;
    }
    this.counters.writes++;
    const shard = this.index.get(head.shard);
    if (shard?.has(key)) this.setEntry(shard, key, this.indexEntryOf(head, rec));
  }

  private setEntry(shard: Map<string, IndexEntry>, key: string, entry: IndexEntry): void {
    shard.set(key, entry);
    if (entry.pending) this.pendingIndex.set(key, entry);
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

  private healIndexAfterConflict(key: string): void {
    this.counters.reads++;
    const rec = this.runs.get(key);
    if (rec && !(rec.terminal && rec.pendingCount === 0)) return;
    this.counters.writes++; // the Table store deletes a possibly stale entry; here none can be stale
  }

  private addActive(project: string, shard: number, delta: number): void {
    this.counters.reads++;
    this.counters.writes++;
    let perShard = this.activeCounts.get(project);
    if (!perShard) this.activeCounts.set(project, (perShard = new Map()));
    perShard.set(shard, (perShard.get(shard) ?? 0) + delta);
  }
}

export function createMemoryRunStore(): MemoryRunStore {
  return new MemoryRunStore();
}
