import { sanitize } from "../sanitize/index.js";
import type { MonitorEvents } from "./deps.js";

/** Monitor events as log lines (IDs and codes only; details sanitized, because they may quote Foundry). */
export function loggingEvents(log: (line: string) => void): MonitorEvents {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    registered: (head, at) => log(`${iso(at)} registered ${head.ref.project}/${head.ref.runId} thread=${head.ref.threadId} agent=${head.agentId ?? "?"}`),
    transition: (t) => log(`${iso(t.at)} transition ${t.project}/${t.runId} ${t.from ?? "∅"} → ${t.to}`),
    published: (item, at) => log(`${iso(at)} ${item.kind === "escalation" ? "escalated" : "recovered"} ${item.ref.project}/${item.ref.runId} ${item.reason} episode ${item.episode} severity ${item.severity} owner ${item.owner}`),
    degraded: (reason, detail, at) => log(`${iso(at)} monitor-degraded ${reason}: ${sanitize(detail)}`),
  };
}
