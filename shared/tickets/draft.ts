import type { EvidenceBundle } from "./evidence.js";
import { type TicketTrigger, renderTicket } from "./render.js";
import type { TicketDraft } from "./sinks/types.js";

/** The draft every sink gets for one escalation: title and canonical Markdown body rendered once. */
export function draftTicket(bundle: EvidenceBundle, trigger: TicketTrigger, key: string = bundle.run.runId): TicketDraft {
  const rendered = renderTicket(bundle, trigger);
  return { key, title: rendered.title, severity: trigger.severity, reason: trigger.reason, episode: trigger.episode, bundle, body: rendered.markdown };
}
