import type { Instant } from "../../shared/model/run.js";
import type { MonitorEvents } from "../../shared/tracking/deps.js";
import type { TicketEvent } from "../../shared/tickets/open-ticket.js";

/** One line of the events file (../shared/contracts/scenario.md, "Events"). */
export type SimEvent = { type: string; at: string } & Record<string, unknown>;

/** Collects what the monitor did, keyed by monitor time, and writes it in time order. */
export class EventLog implements MonitorEvents {
  private readonly rows: { t: Instant; n: number; event: SimEvent }[] = [];
  private n = 0;

  add(t: Instant, event: Omit<SimEvent, "at">): void {
    this.rows.push({ t, n: this.n++, event: { type: event.type, at: new Date(t).toISOString(), ...event } as SimEvent });
  }

  registered: MonitorEvents["registered"] = (head, at) =>
    this.add(at, { type: "registered", runId: head.ref.runId, threadId: head.ref.threadId, agentId: head.agentId, project: head.ref.project, api: head.ref.api, session: head.session });

  transition: MonitorEvents["transition"] = (t) => this.add(t.at, { type: "transition", runId: t.runId, from: t.from, to: t.to });

  published: MonitorEvents["published"] = (item) => {
    if (item.kind === "escalation") {
      this.add(item.at, { type: "escalation", runId: item.ref.runId, reason: item.reason, episode: item.episode, severity: item.severity, owner: item.owner, messageId: item.messageId });
    } else {
      this.add(item.at, { type: "recovered", runId: item.ref.runId, reason: item.reason, episode: item.episode });
    }
  };

  ticket = (e: TicketEvent): void => this.add(e.at, { type: "ticket", runId: e.runId, reason: e.reason, ticketId: e.ticketId, action: e.action, body: e.body });

  degraded: MonitorEvents["degraded"] = (reason, detail, at) => this.add(at, { type: "monitor-degraded", reason, detail });

  /** Events in time order (stable for equal times). */
  sorted(): SimEvent[] {
    return [...this.rows].sort((a, b) => a.t - b.t || a.n - b.n).map((r) => r.event);
  }
}
