import type { OpenedTicket, TicketDraft, TicketSink } from "../shared/tickets/sinks/types.js";
import { fileTicketId } from "../shared/tickets/sinks/file.js";

/** A ticket sink that keeps what it received in memory: `simulate --stack memory` reports exactly these bodies. */
export class MemoryTicketSink implements TicketSink {
  readonly name = "memory";
  readonly received: { action: "open" | "update" | "resolve"; key: string; externalId: string; body: string; note?: string }[] = [];

  async findByKey(key: string): Promise<OpenedTicket | undefined> {
    const hit = this.received.find((r) => r.action === "open" && r.key === key);
    return hit ? { externalId: hit.externalId } : undefined;
  }
  async open(t: TicketDraft): Promise<OpenedTicket> {
    const externalId = fileTicketId(t.key);
    this.received.push({ action: "open", key: t.key, externalId, body: t.body });
    return { externalId };
  }
  async update(externalId: string, t: TicketDraft, note: string): Promise<void> {
    this.received.push({ action: "update", key: t.key, externalId, body: t.body, note });
  }
  async resolve(externalId: string, t: TicketDraft): Promise<void> {
    this.received.push({ action: "resolve", key: t.key, externalId, body: t.body });
  }
}
