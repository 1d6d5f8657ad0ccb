import type { TableClient, TableEntity, TransactionAction } from "@azure/data-tables";
import { QUERY_PAGE_SIZE } from "./store-rules.js";
import type { StoreCounters } from "./types.js";

// Every request the Table store sends goes through here, so `counters` cannot miss one: the
// benchmark and the "unchanged runs cost no write" tests read them.

export type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };
export type StoredEntity = Entity & { etag: string };

/** `etags[i]` is the new ETag of action i (sub-responses come back in request order). */
export type TransactionOutcome = { ok: true; etags: (string | undefined)[] } | { ok: false; status: number; code?: string };

function statusOf(e: unknown): number | undefined {
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

export class CountedTable {
  constructor(
    private readonly client: TableClient,
    private readonly counters: StoreCounters,
  ) {}

  get name(): string {
    return this.client.tableName;
  }

  async createTable(): Promise<void> {
    this.counters.writes++;
    await this.client.createTable(); // the SDK treats "already exists" as success
  }

  async get(partitionKey: string, rowKey: string): Promise<StoredEntity | undefined> {
    this.counters.reads++;
    try {
      return (await this.client.getEntity<Entity>(partitionKey, rowKey)) as StoredEntity;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  /** All entities matching `filter` (one counted read per page), stopping once `max` are collected. */
  async query(filter: string, options: { select?: string[]; max?: number } = {}): Promise<StoredEntity[]> {
    const found: StoredEntity[] = [];
    let pages = 0;
    const iterator = this.client
      .listEntities<Entity>({ queryOptions: { filter, select: options.select } })
      .byPage({ maxPageSize: QUERY_PAGE_SIZE });
    try {
      for await (const page of iterator) {
        pages++;
        this.counters.reads++;
        for (const e of page) found.push(e as StoredEntity);
        if (options.max !== undefined && found.length >= options.max) return found.slice(0, options.max);
      }
    } finally {
      if (pages === 0) this.counters.reads++; // an empty answer is still a request
    }
    return found;
  }

  async create(entity: Entity): Promise<"created" | "exists"> {
    this.counters.writes++;
    try {
      await this.client.createEntity(entity as TableEntity);
      return "created";
    } catch (e) {
      if (statusOf(e) === 409) return "exists";
      throw e;
    }
  }

  async upsert(entity: Entity): Promise<void> {
    this.counters.writes++;
    await this.client.upsertEntity(entity as TableEntity, "Replace");
  }

  /** Replace with If-Match `etag` ("*" = any version, but the entity must exist). */
  async update(entity: Entity, etag: string): Promise<"updated" | "missing" | "stale"> {
    this.counters.writes++;
    try {
      await this.client.updateEntity(entity as TableEntity, "Replace", { etag });
      return "updated";
    } catch (e) {
      const status = statusOf(e);
      if (status === 404) return "missing";
      if (status === 412) return "stale";
      throw e;
    }
  }

  async remove(partitionKey: string, rowKey: string): Promise<boolean> {
    this.counters.writes++;
    try {
      await this.client.deleteEntity(partitionKey, rowKey);
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw e;
    }
  }

  /**
   * One entity-group transaction (counted as one write). 404/409/412 are outcomes: Table Storage
   * rolled the whole batch back. Anything else is thrown.
   */
  async transact(actions: TransactionAction[]): Promise<TransactionOutcome> {
    this.counters.writes++;
    try {
      const response = await this.client.submitTransaction(actions);
      // Update sub-responses carry no row key, so they are matched by position.
      return { ok: true, etags: response.subResponses.map((sub) => sub.etag) };
    } catch (e) {
      const status = statusOf(e);
      if (status === 404 || status === 409 || status === 412) return { ok: false, status, code: (e as { code?: string }).code };
      throw e;
    }
  }
}
