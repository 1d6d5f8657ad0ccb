// Where the daily buckets and the remediation ledger live: one table `${prefix}insights`.
// Bucket partition = bucket ID; row "bucket" holds the aggregate, rows "m|…" the markers of what
// it counted. Counting is one entity-group transaction (insert marker + ETag-checked bucket write),
// so a contribution is counted exactly once even across crashes, redeliveries and racing pollers.
import { TableClient, type TransactionAction } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import type { RemediationRecord } from "../remediation/types.js";
import { encodeKey } from "../store/store-rules.js";
import { CountedTable, type StoredEntity } from "../store/table-requests.js";
import type { StoreCounters } from "../store/types.js";
import { applyContribution } from "./aggregate.js";
import type { Bucket, BucketKind, Contribution, Day } from "./types.js";

export interface InsightsStore {
  readonly counters: StoreCounters;
  init(): Promise<void>;
  /** Counts `c` once: "counted", or "duplicate" when its marker is already in the bucket. */
  apply(c: Contribution): Promise<"counted" | "duplicate">;
  /** Buckets of one kind for days from..to (inclusive), read by key range (never a scan of runs). */
  buckets(kind: BucketKind, from: Day, to: Day): Promise<Bucket[]>;
  /** Insert-only: "claimed" for the first writer, else the row that is already there (with its ETag). */
  claimRemediation(record: RemediationRecord): Promise<{ kind: "claimed"; etag: string } | { kind: "exists"; record: RemediationRecord; etag: string }>;
  /** Replaces a claimed row if unchanged since `etag`. */
  finishRemediation(record: RemediationRecord, etag: string): Promise<"ok" | "conflict">;
  /** Remediation rows rooted at one run (its cancel, and the retries of its lineage), oldest first. */
  listRemediation(project: string, runId: string): Promise<RemediationRecord[]>;
}

const MAX_TRIES = 8;
const BUCKET_ROW = "bucket";
const markerRow = (marker: string) => `m|${encodeKey(marker)}`;
const remediationPartition = (project: string, runId: string) => `remediation|${encodeKey(project)}|${encodeKey(runId)}`;
const remediationRow = (r: Pick<RemediationRecord, "action" | "attempt">) => `${r.action}|${String(r.attempt).padStart(3, "0")}`;

export class MemoryInsightsStore implements InsightsStore {
  readonly counters: StoreCounters = { writes: 0, reads: 0 };
  private readonly bucketRows = new Map<string, Bucket>();
  private readonly markers = new Set<string>();
  private readonly remediation = new Map<string, { record: RemediationRecord; etag: number }>();
  private version = 0;

  async init(): Promise<void> {}

  async apply(c: Contribution): Promise<"counted" | "duplicate"> {
    const key = `${c.bucketId}\u0000${c.marker}`;
    this.counters.writes++;
    if (this.markers.has(key)) return "duplicate";
    this.markers.add(key);
    this.bucketRows.set(c.bucketId, applyContribution(this.bucketRows.get(c.bucketId), c));
    return "counted";
  }

  async buckets(kind: BucketKind, from: Day, to: Day): Promise<Bucket[]> {
    this.counters.reads++;
    return [...this.bucketRows.values()].filter((b) => b.kind === kind && b.day >= from && b.day <= to).map((b) => structuredClone(b));
  }

  async claimRemediation(record: RemediationRecord) {
    const key = `${remediationPartition(record.project, record.rootRunId)}\u0000${remediationRow(record)}`;
    this.counters.writes++;
    const cur = this.remediation.get(key);
    if (cur) return { kind: "exists" as const, record: structuredClone(cur.record), etag: String(cur.etag) };
    const etag = ++this.version;
    this.remediation.set(key, { record: structuredClone(record), etag });
    return { kind: "claimed" as const, etag: String(etag) };
  }

  async finishRemediation(record: RemediationRecord, etag: string): Promise<"ok" | "conflict"> {
    const key = `${remediationPartition(record.project, record.rootRunId)}\u0000${remediationRow(record)}`;
    this.counters.writes++;
    const cur = this.remediation.get(key);
    if (!cur || String(cur.etag) !== etag) return "conflict";
    this.remediation.set(key, { record: structuredClone(record), etag: ++this.version });
    return "ok";
  }

  async listRemediation(project: string, runId: string): Promise<RemediationRecord[]> {
    this.counters.reads++;
    return [...this.remediation.values()]
      .map((r) => r.record)
      .filter((r) => r.project === project && r.rootRunId === runId)
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((r) => structuredClone(r));
  }
}

export interface TableInsightsStoreOptions {
  connectionString?: string;
  tableServiceUri?: string;
  credential?: TokenCredential;
  /** Tables are named `${tablePrefix}insights`. */
  tablePrefix: string;
}

export function createTableInsightsStore(options: TableInsightsStoreOptions): TableInsightsStore {
  const name = `${options.tablePrefix}insights`;
  if (options.connectionString) {
    const insecure = /UseDevelopmentStorage=true|=http:\/\//i.test(options.connectionString);
    return new TableInsightsStore(TableClient.fromConnectionString(options.connectionString, name, { allowInsecureConnection: insecure }));
  }
  if (!options.tableServiceUri || !options.credential) throw new Error("insights store: expected a connection string or a table service URI with a credential");
  return new TableInsightsStore(new TableClient(options.tableServiceUri, name, options.credential));
}

export class TableInsightsStore implements InsightsStore {
  readonly counters: StoreCounters = { writes: 0, reads: 0 };
  private readonly table: CountedTable;

  constructor(client: TableClient) {
    this.table = new CountedTable(client, this.counters);
  }

  async init(): Promise<void> {
    await this.table.createTable();
  }

  async apply(c: Contribution): Promise<"counted" | "duplicate"> {
    const marker = { partitionKey: c.bucketId, rowKey: markerRow(c.marker) };
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const row = await this.table.get(c.bucketId, BUCKET_ROW);
      const current = row ? (JSON.parse(String(row.bucket)) as Bucket) : undefined;
      const next = { partitionKey: c.bucketId, rowKey: BUCKET_ROW, kind: c.empty.kind, day: c.empty.day, bucket: JSON.stringify(applyContribution(current, c)) };
      const actions: TransactionAction[] = [["create", marker], row ? ["update", next, "Replace", { etag: row.etag }] : ["create", next]];
      const outcome = await this.table.transact(actions);
      if (outcome.ok) return "counted";
      // 409: the marker (already counted) or a bucket created meanwhile; 412: the bucket moved on.
      if (await this.table.get(c.bucketId, marker.rowKey)) return "duplicate";
    }
    throw new Error(`insights: ${MAX_TRIES} write conflicts in a row on bucket ${c.bucketId}`);
  }

  async buckets(kind: BucketKind, from: Day, to: Day): Promise<Bucket[]> {
    // Bucket IDs start with `${kind}|${day}|`, so one partition-key range covers the window.
    const filter = `PartitionKey ge '${kind}|${from}' and PartitionKey lt '${kind}|${to}|~' and RowKey eq '${BUCKET_ROW}'`;
    const rows = await this.table.query(filter, { select: ["bucket"] });
    return rows.map((r) => JSON.parse(String(r.bucket)) as Bucket);
  }

  async claimRemediation(record: RemediationRecord) {
    const entity = { partitionKey: remediationPartition(record.project, record.rootRunId), rowKey: remediationRow(record), record: JSON.stringify(record) };
    if ((await this.table.create(entity)) === "created") {
      const row = await this.table.get(entity.partitionKey, entity.rowKey);
      return { kind: "claimed" as const, etag: row?.etag ?? "*" };
    }
    const row = await this.table.get(entity.partitionKey, entity.rowKey);
    if (!row) throw new Error(`insights: remediation row ${entity.rowKey} of ${record.rootRunId} exists and vanished`);
    return { kind: "exists" as const, record: recordOf(row), etag: row.etag };
  }

  async finishRemediation(record: RemediationRecord, etag: string): Promise<"ok" | "conflict"> {
    const entity = { partitionKey: remediationPartition(record.project, record.rootRunId), rowKey: remediationRow(record), record: JSON.stringify(record) };
    const result = await this.table.update(entity, etag);
    return result === "updated" ? "ok" : "conflict";
  }

  async listRemediation(project: string, runId: string): Promise<RemediationRecord[]> {
    const rows = await this.table.query(`PartitionKey eq '${remediationPartition(project, runId).replace(/'/g, "''")}'`);
    return rows.map(recordOf).sort((a, b) => a.startedAt - b.startedAt);
  }
}

const recordOf = (row: StoredEntity): RemediationRecord => JSON.parse(String(row.record)) as RemediationRecord;
