import { TableClient, RestError } from "@azure/data-tables";
import type { Instant } from "../model/run.js";

// The ticket ledger, keyed by run: which ticket a run has, in which sinks, and which escalation
// messages it already reflects — so a redelivered message changes nothing and a run never gets a
// second ticket. Storm groups (many runs of one agent and reason) keep one row per window.

export type TicketAction = "opened" | "updated" | "grouped" | "resolved";

/** A message the handler started applying: the action it decided and the sinks that already have it. */
export interface InFlightMessage {
  action: TicketAction;
  /** Sink names that accepted this message's call; a retry after a sink failed halfway skips them. */
  sinks: string[];
  since: Instant;
}

export interface LedgerEntry {
  project: string;
  runId: string;
  /** Our ticket ID (deterministic from the run, or the group's for a grouped run). */
  ticketId: string;
  /** "opening" is written before any sink is called: after a crash, the next delivery knows a sink may already hold it. */
  state: "opening" | "open" | "grouped";
  /** Sink name → the target's ID for this ticket. */
  externalIds: Record<string, string>;
  /** messageIds (CloudEvent ids) of the escalations/recoveries this ticket already reflects. */
  processed: string[];
  /** messageId → progress of a message being applied (removed once it is in `processed`). */
  inFlight?: Record<string, InFlightMessage>;
  /** The storm group's draft key (`group|<key>|<windowStart>`) when the run joined a grouped incident. */
  groupKey?: string;
  /** Where the grouped incident's row is; `opener`: this run is the one that opens the incident in the sinks. */
  group?: { key: string; windowStart: Instant; opener: boolean };
  /** Set when a recovery resolved (or noted) the ticket; a later escalation updates it again. */
  resolvedAt?: Instant;
  openedAt: Instant;
  updatedAt: Instant;
}

export interface StormGroup {
  key: string;
  windowStart: Instant;
  ticketId: string;
  /** In the order they joined: the first `threshold` opened their own tickets, the rest are in the incident. */
  runIds: string[];
  /** Set per sink once the group's incident was opened there. */
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

// Table keys may not hold / \ # ? or control characters. `%` is escaped too, so two different
// keys can never encode to the same row.
const safeKey = (s: string): string =>
  Array.from(s, (c) => {
    const code = c.charCodeAt(0);
    return "%\\/#?".includes(c) || code < 0x20 || code === 0x7f ? `%${code.toString(16).padStart(2, "0")}` : c;
  }).join("");

// A Table string property holds at most 64 KiB (32 K UTF-16 characters) and an entity at most
// 1 MiB: a storm group listing thousands of runs outgrows one property, so the JSON document is
// split over `doc`, `doc1`, `doc2`, …
const CHUNK_CHARS = 30_000;
const MAX_CHUNKS = 15;

function toChunks(json: string): Record<string, string> {
  if (json.length > CHUNK_CHARS * MAX_CHUNKS) throw new Error(`ticket ledger row too large: ${json.length} characters (limit ${CHUNK_CHARS * MAX_CHUNKS}, Table entities hold 1 MiB)`);
  const out: Record<string, string> = {};
  for (let i = 0, n = 0; i === 0 || i < json.length; i += CHUNK_CHARS, n++) out[n === 0 ? "doc" : `doc${n}`] = json.slice(i, i + CHUNK_CHARS);
  return out;
}

function fromChunks(entity: Record<string, unknown>): string {
  let json = String(entity.doc ?? "");
  for (let n = 1; typeof entity[`doc${n}`] === "string"; n++) json += entity[`doc${n}`] as string;
  return json;
}

/** Ledger on Table Storage: partition = run (or group), one row holding the JSON document. */
export class TableTicketLedger implements TicketLedger {
  constructor(private readonly table: TableClient) {}

  async init(): Promise<void> {
    await this.table.createTable();
  }

  private async getRow<T>(pk: string, rk: string): Promise<Versioned<T> | undefined> {
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(safeKey(pk), safeKey(rk));
      return { value: JSON.parse(fromChunks(e)) as T, etag: e.etag };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  private async putRow(pk: string, rk: string, value: unknown, etag: string | undefined): Promise<"ok" | "conflict"> {
    // "Replace" drops chunk properties a shorter document no longer needs.
    const entity = { partitionKey: safeKey(pk), rowKey: safeKey(rk), ...toChunks(JSON.stringify(value)) };
    try {
      if (etag === undefined) await this.table.createEntity(entity);
      else await this.table.updateEntity(entity, "Replace", { etag });
      return "ok";
    } catch (err) {
      // 409: inserted meanwhile; 412: changed meanwhile; 404: deleted meanwhile — all "read again".
      if (err instanceof RestError && (err.statusCode === 409 || err.statusCode === 412 || (etag !== undefined && err.statusCode === 404))) return "conflict";
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
