import { TableClient, RestError } from "@azure/data-tables";
import type { Instant } from "../model/run.js";

// The ticket ledger, keyed by run: which ticket a run has, in which sinks, and which escalation
// messages it already reflects — so a redelivered message changes nothing and a run never gets a
// second ticket. Storm groups (many runs of one agent and reason) keep a counter row per window.

export interface LedgerEntry {
  project: string;
  runId: string;
  /** Our ticket ID (deterministic from the run, or the group's for a grouped run). */
  ticketId: string;
  /** "opening" is written before any sink is called: after a crash, the next delivery knows a sink may already hold it. */
  state: "opening" | "open" | "grouped";
  /** Sink name → the target's ID for this ticket. */
  externalIds: Record<string, string>;
  /** messageIds of the escalations/recoveries this ticket already reflects. */
  processed: string[];
  groupKey?: string;
  openedAt: Instant;
  updatedAt: Instant;
}

export interface StormGroup {
  key: string;
  windowStart: Instant;
  ticketId: string;
  runIds: string[];
  /** Set once the group's incident was opened in the sinks. */
  externalIds: Record<string, string>;
}

export type Versioned<T> = { value: T; etag: string };

export interface TicketLedger {
  init(): Promise<void>;
  get(project: string, runId: string): Promise<Versioned<LedgerEntry> | undefined>;
  /** Insert when `etag` is undefined (fails if present), else replace if unchanged. */
  put(entry: LedgerEntry, etag: string | undefined): Promise<"ok" | "conflict">;
  getGroup(key: string, windowStart: Instant): Promise<Versioned<StormGroup> | undefined>;
  putGroup(group: StormGroup, etag: string | undefined): Promise<"ok" | "conflict">;
  /** For the API/dashboard timeline. */
  ticketsForRun(project: string, runId: string): Promise<LedgerEntry[]>;
}

export class MemoryTicketLedger implements TicketLedger {
  private readonly rows = new Map<string, Versioned<unknown>>();
  private version = 0;
  async init(): Promise<void> {}
  private getRow<T>(key: string): Versioned<T> | undefined {
    const r = this.rows.get(key);
    return r ? { value: structuredClone(r.value) as T, etag: r.etag } : undefined;
  }
  private putRow(key: string, value: unknown, etag: string | undefined): "ok" | "conflict" {
    const cur = this.rows.get(key);
    if (etag === undefined ? cur !== undefined : cur?.etag !== etag) return "conflict";
    this.rows.set(key, { value: structuredClone(value), etag: String(++this.version) });
    return "ok";
  }
  async get(project: string, runId: string) {
    return this.getRow<LedgerEntry>(`run|${project}|${runId}`);
  }
  async put(entry: LedgerEntry, etag: string | undefined) {
    return this.putRow(`run|${entry.project}|${entry.runId}`, entry, etag);
  }
  async getGroup(key: string, windowStart: Instant) {
    return this.getRow<StormGroup>(`group|${key}|${windowStart}`);
  }
  async putGroup(group: StormGroup, etag: string | undefined) {
    return this.putRow(`group|${group.key}|${group.windowStart}`, group, etag);
  }
  async ticketsForRun(project: string, runId: string): Promise<LedgerEntry[]> {
    const e = await this.get(project, runId);
    return e ? [e.value] : [];
  }
}

const safeKey = (s: string): string => s.replace(/[\\/#?\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** Ledger on Table Storage: partition = run (or group), one row holding the JSON document. */
export class TableTicketLedger implements TicketLedger {
  constructor(private readonly table: TableClient) {}

  async init(): Promise<void> {
    await this.table.createTable();
  }

  private async getRow<T>(pk: string, rk: string): Promise<Versioned<T> | undefined> {
    try {
      const e = await this.table.getEntity<{ doc: string }>(safeKey(pk), safeKey(rk));
      return { value: JSON.parse(e.doc) as T, etag: e.etag };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  private async putRow(pk: string, rk: string, value: unknown, etag: string | undefined): Promise<"ok" | "conflict"> {
    const entity = { partitionKey: safeKey(pk), rowKey: safeKey(rk), doc: JSON.stringify(value) };
    try {
      if (etag === undefined) await this.table.createEntity(entity);
      else await this.table.updateEntity(entity, "Replace", { etag });
      return "ok";
    } catch (err) {
      if (err instanceof RestError && (err.statusCode === 409 || err.statusCode === 412)) return "conflict";
      throw err;
    }
  }

  get(project: string, runId: string) {
    return this.getRow<LedgerEntry>(`run|${project}|${runId}`, "ticket");
  }
  put(entry: LedgerEntry, etag: string | undefined) {
    return this.putRow(`run|${entry.project}|${entry.runId}`, "ticket", entry, etag);
  }
  getGroup(key: string, windowStart: Instant) {
    return this.getRow<StormGroup>(`group|${key}`, String(windowStart));
  }
  putGroup(group: StormGroup, etag: string | undefined) {
    return this.putRow(`group|${group.key}`, String(group.windowStart), group, etag);
  }
  async ticketsForRun(project: string, runId: string): Promise<LedgerEntry[]> {
    const e = await this.get(project, runId);
    return e ? [e.value] : [];
  }
}
