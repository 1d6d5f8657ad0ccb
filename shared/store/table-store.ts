import { TableClient, odata, type TransactionAction } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import type { Instant } from "../model/run.js";
import { searchRuns } from "./search.js";
import {
  DEFAULT_OUTBOX_LIMIT,
  MAX_SEARCH_SCAN,
  MAX_TRANSACTION_ACTIONS,
  checkChange,
  compactHead,
  encodeKey,
  isIndexed,
  lookupKeysOf,
  oldestOutboxFirst,
  runKeyOf,
  type LookupKind,
} from "./store-rules.js";
import {
  HEAD_ROW,
  OUTBOX_PREFIX,
  TRANSITION_PREFIX,
  countPartition,
  headEntity,
  headOf,
  indexEntity,
  int64Literal,
  lookupEntity,
  lookupPartition,
  outboxEntity,
  outboxOf,
  outboxRowKey,
  rangeEnd,
  readNumber,
  shardPartition,
  transitionEntity,
  transitionOf,
} from "./table-entities.js";
import { CountedTable, type TransactionOutcome } from "./table-requests.js";
import type { CommitResult, OutboxItem, RunChange, RunHead, RunQuery, RunStore, StoredHead, StoreCounters, Transition } from "./types.js";

// RunStore on Azure Table Storage (Azurite locally). Three tables:
//   runs    partition `${project}|${runId}`: row `head`, `t|000000001` transitions, `o|${messageId}` outbox
//   active  partition `shard|k`: one row per active run, a copy of its head + the head's ETag (a cache:
//           a stale copy makes the next commit conflict, and the caller reloads the head);
//           partition `count|${project}`: one counter row per shard, `active` = runs in the index
//   lookup  partitions `run|`, `thread|`, `session|`, `agent|` + ID: one row per run, for search
// Project counters are sharded per (project, shard) so registrations in one project do not all
// contend on one row, and `countActive` is one small partition query rather than an index scan.
// Counters are bumped before an index entry is created and after one is removed, so a crash in
// between over-counts (a slightly conservative cap, an empty shard polled) and never hides a run.

export type TableRunStoreOptions = { tablePrefix?: string } & (
  | { connectionString: string }
  | { tableServiceUri: string; credential: TokenCredential }
);

const COUNTER_RETRIES = 20;
const PUBLISH_RETRIES = 10;

export class TableRunStore implements RunStore {
  readonly counters: StoreCounters = { reads: 0, writes: 0 };
  private readonly runs: CountedTable;
  private readonly active: CountedTable;
  private readonly lookup: CountedTable;

  constructor(makeClient: (tableName: string) => TableClient, tablePrefix = "monitor") {
    if (!/^[A-Za-z][A-Za-z0-9]{0,55}$/.test(tablePrefix)) {
      throw new Error(`tablePrefix must be a letter followed by letters/digits (Table names are alphanumeric), got ${JSON.stringify(tablePrefix)}`);
    }
    this.runs = new CountedTable(makeClient(`${tablePrefix}runs`), this.counters);
    this.active = new CountedTable(makeClient(`${tablePrefix}active`), this.counters);
    this.lookup = new CountedTable(makeClient(`${tablePrefix}lookup`), this.counters);
  }

  async init(): Promise<void> {
    await this.runs.createTable();
    await this.active.createTable();
    await this.lookup.createTable();
  }

  async getHead(project: string, runId: string): Promise<StoredHead | undefined> {
    return this.readHead(runKeyOf(project, runId));
  }

  async createRun(change: Omit<RunChange, "expectedEtag">): Promise<"created" | "exists"> {
    checkChange(change);
    const head = compactHead(change.head);
    const key = runKeyOf(head.ref.project, head.ref.runId);
    const tx = await this.runs.transact([
      ["create", headEntity(key, head)],
      ...change.transitions.map((t): TransactionAction => ["create", transitionEntity(key, t)]),
      ...change.outbox.map((o): TransactionAction => ["create", outboxEntity(key, o)]),
    ]);
    if (!tx.ok) {
      if (tx.status !== 409) throw new Error(`createRun ${head.ref.runId}: unexpected ${tx.status} ${tx.code ?? ""}`);
      return this.finishExisting(key, head.shard);
    }
    const etag = headEtagOf(tx);
    // Lookups before the index entry: finishExisting takes an index entry as "registration complete".
    await this.writeLookups(key, head);
    if (isIndexed(head)) await this.enterIndex(key, head, etag);
    return "created";
  }

  async countActive(project: string): Promise<number> {
    const rows = await this.active.query(odata`PartitionKey eq ${countPartition(project)}`, { select: ["active"] });
    return rows.reduce((n, r) => n + Math.max(0, readNumber(r.active) || 0), 0);
  }

  async nonEmptyShards(): Promise<number[]> {
    const rows = await this.active.query(`PartitionKey ge 'count|' and PartitionKey lt 'count}' and active gt 0`, { select: ["RowKey"] });
    return [...new Set(rows.map((r) => Number(r.rowKey)))].sort((a, b) => a - b);
  }

  async listShard(shard: number): Promise<StoredHead[]> {
    const rows = await this.active.query(odata`PartitionKey eq ${shardPartition(shard)}`);
    return rows.map((r) => ({ head: headOf(r), etag: String(r.headEtag) }));
  }

  async commit(change: RunChange): Promise<CommitResult> {
    checkChange(change);
    const head = compactHead(change.head);
    const key = runKeyOf(head.ref.project, head.ref.runId);
    const tx = await this.runs.transact([
      ["update", headEntity(key, head), "Replace", { etag: change.expectedEtag }],
      ...change.transitions.map((t): TransactionAction => ["create", transitionEntity(key, t)]),
      ...change.outbox.map((o): TransactionAction => ["create", outboxEntity(key, o)]),
    ]);
    if (!tx.ok) {
      // 412: stale ETag; 409: a transition or outbox row already exists; 404: the run is gone.
      await this.healIndexAfterConflict(key, head);
      return { ok: false, reason: "conflict" };
    }
    const etag = headEtagOf(tx);
    // The agent is often unknown at registration and arrives with the first observation.
    if (head.agentId && change.transitions.some((t) => t.from === null)) await this.lookup.upsert(lookupEntity("agent", head.agentId, key, head));
    await this.refreshIndex(key, head, etag);
    return { ok: true, etag };
  }

  async listPendingOutbox(limit = DEFAULT_OUTBOX_LIMIT): Promise<OutboxItem[]> {
    const entries = await this.active.query(`PartitionKey ge 'shard|' and PartitionKey lt 'shard}' and pending eq true`, {
      select: ["RowKey", "updatedAt"],
    });
    entries.sort((a, b) => readNumber(a.updatedAt) - readNumber(b.updatedAt) || (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
    const items: OutboxItem[] = [];
    for (const entry of entries) {
      if (items.length >= limit) break;
      const rows = await this.runs.query(
        odata`PartitionKey eq ${entry.rowKey} and RowKey ge ${OUTBOX_PREFIX} and RowKey lt ${rangeEnd(OUTBOX_PREFIX)} and status eq 'pending'`,
      );
      // Flagged pending with nothing pending: a crash between markPublished and its index update.
      // Refresh the entry from the head, or a drained terminal run would stay in the index for good.
      if (rows.length === 0) await this.healIndexEntry(entry.rowKey);
      items.push(...rows.map(outboxOf));
    }
    return items.sort(oldestOutboxFirst).slice(0, limit);
  }

  async markPublished(project: string, runId: string, messageIds: string[]): Promise<void> {
    const key = runKeyOf(project, runId);
    for (let attempt = 0; attempt < PUBLISH_RETRIES; attempt++) {
      const stored = await this.readHead(key);
      if (!stored) return;
      const marking = new Set(messageIds.filter((id) => stored.head.pendingOutbox.includes(id)));
      if (marking.size === 0) return;
      if (1 + marking.size > MAX_TRANSACTION_ACTIONS) throw new Error(`markPublished: at most ${MAX_TRANSACTION_ACTIONS - 1} messages at once`);
      const next: RunHead = { ...stored.head, pendingOutbox: stored.head.pendingOutbox.filter((id) => !marking.has(id)) };
      const tx = await this.runs.transact([
        ["update", headEntity(key, next), "Replace", { etag: stored.etag }],
        ...[...marking].map((id): TransactionAction => ["update", { partitionKey: key, rowKey: outboxRowKey(id), status: "sent" }, "Merge", { etag: "*" }]),
      ]);
      if (tx.ok) {
        await this.refreshIndex(key, next, headEtagOf(tx));
        return;
      }
      if (tx.status === 404) throw new Error(`markPublished: run ${runId} lacks an outbox row among ${[...marking].join(", ")}`);
      // 412: someone committed in between; read the head again.
    }
    throw new Error(`markPublished: run ${runId} kept changing for ${PUBLISH_RETRIES} attempts`);
  }

  async listTransitions(project: string, runId: string): Promise<Transition[]> {
    const key = runKeyOf(project, runId);
    const rows = await this.runs.query(odata`PartitionKey eq ${key} and RowKey ge ${TRANSITION_PREFIX} and RowKey lt ${rangeEnd(TRANSITION_PREFIX)}`);
    return rows.map(transitionOf).sort((a, b) => a.seq - b.seq);
  }

  async listOutbox(project: string, runId: string): Promise<OutboxItem[]> {
    const key = runKeyOf(project, runId);
    const rows = await this.runs.query(odata`PartitionKey eq ${key} and RowKey ge ${OUTBOX_PREFIX} and RowKey lt ${rangeEnd(OUTBOX_PREFIX)}`);
    return rows.map(outboxOf).sort(oldestOutboxFirst);
  }

  async searchRuns(query: RunQuery): Promise<{ runs: RunHead[]; continuationToken?: string }> {
    return searchRuns(
      {
        lookup: async (kind, value, project) => {
          let filter = odata`PartitionKey eq ${lookupPartition(kind, value)}`;
          if (project !== undefined) filter += " and " + odata`RowKey ge ${encodeKey(project) + "|"} and RowKey lt ${encodeKey(project) + "}"}`;
          const rows = await this.lookup.query(filter);
          return rows.map((r) => ({ project: String(r.project), runId: String(r.runId), registeredAt: readNumber(r.registeredAt), key: r.rowKey }));
        },
        getHead: async (project, runId) => (await this.getHead(project, runId))?.head,
        scanHeads: async (q) => {
          const rows = await this.runs.query(scanFilter(q), { max: MAX_SEARCH_SCAN });
          return rows.map((r) => ({ head: headOf(r), key: r.partitionKey }));
        },
      },
      query,
    );
  }

  async purgeHistory(before: Instant): Promise<number> {
    const doomed = await this.runs.query(
      `RowKey eq '${HEAD_ROW}' and terminal eq true and pendingCount eq 0 and updatedAt lt ${int64Literal(before)}`,
    );
    for (const row of doomed) {
      const head = headOf(row);
      const key = row.partitionKey;
      const rows = await this.runs.query(odata`PartitionKey eq ${key}`, { select: ["RowKey"] });
      for (const { kind, value } of lookupKeysOf(head)) await this.lookup.remove(lookupPartition(kind, value), key);
      await this.removeFromIndex(key, head);
      // The head goes last: a purge cut short leaves a head that the next purge finds again.
      const rowKeys = rows.map((r) => r.rowKey).filter((k) => k !== HEAD_ROW);
      rowKeys.push(HEAD_ROW);
      for (let i = 0; i < rowKeys.length; i += MAX_TRANSACTION_ACTIONS) {
        const tx = await this.runs.transact(rowKeys.slice(i, i + MAX_TRANSACTION_ACTIONS).map((rowKey): TransactionAction => ["delete", { partitionKey: key, rowKey }]));
        if (!tx.ok && tx.status !== 404) throw new Error(`purgeHistory ${head.ref.runId}: unexpected ${tx.status} ${tx.code ?? ""}`);
      }
    }
    return doomed.length;
  }

  private async readHead(key: string): Promise<StoredHead | undefined> {
    const row = await this.runs.get(key, HEAD_ROW);
    return row ? { head: headOf(row), etag: row.etag } : undefined;
  }

  /** A second registration: finish what a crashed first one may have left undone (lookups, index entry). */
  private async finishExisting(key: string, shard: number): Promise<"exists"> {
    if (await this.active.get(shardPartition(shard), key)) return "exists";
    const stored = await this.readHead(key);
    if (stored && isIndexed(stored.head)) {
      await Promise.all([this.writeLookups(key, stored.head), this.enterIndex(key, stored.head, stored.etag)]);
    }
    return "exists";
  }

  private async writeLookups(key: string, head: RunHead): Promise<void> {
    await Promise.all(lookupKeysOf(head).map(({ kind, value }) => this.lookup.upsert(lookupEntity(kind as LookupKind, value, key, head))));
  }

  private async enterIndex(key: string, head: RunHead, etag: string): Promise<void> {
    await this.addActive(head.ref.project, head.shard, 1);
    if ((await this.active.create(indexEntity(key, head, etag))) === "exists") await this.addActive(head.ref.project, head.shard, -1);
  }

  /**
   * After a write: replace the index copy, or remove it once the run is terminal with nothing to
   * publish. Replace (not upsert) so a late refresh never resurrects an entry a newer commit removed.
   */
  private async refreshIndex(key: string, head: RunHead, etag: string): Promise<void> {
    if (isIndexed(head)) await this.active.update(indexEntity(key, head, etag), "*");
    else await this.removeFromIndex(key, head);
  }

  private async removeFromIndex(key: string, head: RunHead): Promise<void> {
    if (await this.active.remove(shardPartition(head.shard), key)) await this.addActive(head.ref.project, head.shard, -1);
  }

  /**
   * A conflict may come from a stale index copy of a run that has since finished (a crash between
   * commit and index removal): drop such an entry, or the sweep would poll it forever.
   */
  private async healIndexAfterConflict(key: string, head: RunHead): Promise<void> {
    const stored = await this.readHead(key);
    if (!stored || !isIndexed(stored.head)) await this.removeFromIndex(key, stored?.head ?? head);
    // A crash between a commit and its index refresh leaves an older copy: without this refresh its
    // `pending` flag stays false (the commit's outbox rows are never published) and, for a run the
    // commit made terminal, every later poll decides "unchanged" from the fresh head.
    else await this.refreshIndex(key, stored.head, stored.etag);
  }

  private async healIndexEntry(key: string): Promise<void> {
    const stored = await this.readHead(key);
    if (stored) await this.refreshIndex(key, stored.head, stored.etag);
  }

  private async addActive(project: string, shard: number, delta: number): Promise<void> {
    const partitionKey = countPartition(project);
    const rowKey = String(shard);
    for (let attempt = 0; attempt < COUNTER_RETRIES; attempt++) {
      const row = await this.active.get(partitionKey, rowKey);
      if (!row) {
        if ((await this.active.create({ partitionKey, rowKey, project, active: delta })) === "created") return;
        continue;
      }
      const next = { partitionKey, rowKey, project, active: (readNumber(row.active) || 0) + delta };
      if ((await this.active.update(next, row.etag)) === "updated") return;
    }
    throw new Error(`active-run counter ${project}/${shard}: ${COUNTER_RETRIES} ETag conflicts in a row`);
  }
}

function headEtagOf(tx: TransactionOutcome): string {
  if (!tx.ok) throw new Error("no ETag from a failed transaction");
  const etag = tx.etags[0]; // the head is always the first action
  if (!etag) throw new Error("the transaction response carried no ETag for the head row");
  return etag;
}

function scanFilter(q: RunQuery): string {
  const parts = [`RowKey eq '${HEAD_ROW}'`];
  if (q.project !== undefined) parts.push(odata`project eq ${q.project}`);
  if (q.status !== undefined) parts.push(odata`status eq ${q.status}`);
  if (q.api !== undefined) parts.push(odata`api eq ${q.api}`);
  if (q.owner !== undefined) parts.push(odata`owner eq ${q.owner}`);
  if (q.from !== undefined) parts.push(`registeredAt ge ${int64Literal(q.from)}`);
  if (q.to !== undefined) parts.push(`registeredAt le ${int64Literal(q.to)}`);
  return parts.join(" and ");
}

function isHttp(url: string): boolean {
  return /^http:\/\//i.test(url);
}

/** Connection strings (Azurite: `UseDevelopmentStorage=true` or an http TableEndpoint) or a service URI with a credential (managed identity in Azure). */
export function createTableRunStore(options: TableRunStoreOptions): TableRunStore {
  if ("connectionString" in options) {
    const cs = options.connectionString;
    const insecure = /UseDevelopmentStorage=true/i.test(cs) || /TableEndpoint=http:\/\//i.test(cs) || /DefaultEndpointsProtocol=http;/i.test(cs);
    return new TableRunStore((name) => TableClient.fromConnectionString(cs, name, { allowInsecureConnection: insecure }), options.tablePrefix);
  }
  const { tableServiceUri, credential } = options;
  return new TableRunStore((name) => new TableClient(tableServiceUri, name, credential, { allowInsecureConnection: isHttp(tableServiceUri) }), options.tablePrefix);
}
