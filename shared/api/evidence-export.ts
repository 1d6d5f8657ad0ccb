import type { EscalationReason, Severity } from "../model/run.js";
import type { RunStore } from "../store/types.js";
import { buildEvidence, type EvidenceBundle } from "../tickets/evidence.js";
import { ticketDocument, type Block } from "../tickets/document.js";
import { renderMarkdown } from "../tickets/render.js";
import type { ApiDeps } from "./types.js";

/**
 * Links to a run, the same in tickets and evidence exports. With the Functions host's default
 * route prefix every HTTP function (the dashboard included) lives under /api.
 */
export function runLinks(baseUrl: string, project: string, runId: string): { dashboard: string; api: string } {
  const base = baseUrl.replace(/\/+$/, "");
  const p = `${encodeURIComponent(project)}/${encodeURIComponent(runId)}`;
  return { dashboard: `${base}/api/dashboard/runs/${p}`, api: `${base}/api/runs/${p}/evidence` };
}

/** The same sanitized bundle tickets carry, built from what the store holds. Undefined when the run is unknown. */
export async function evidenceFor(deps: Pick<ApiDeps, "store" | "messages" | "evidencePolicy" | "now">, project: string, runId: string, baseUrl: string): Promise<EvidenceBundle | undefined> {
  const store: RunStore = deps.store;
  const stored = await store.getHead(project, runId);
  if (!stored) return undefined;
  const { head } = stored;
  const [transitions, outbox] = await Promise.all([store.listTransitions(project, runId), store.listOutbox(project, runId)]);
  let finalMessage: { id: string; role: string; text: string } | undefined;
  if (head.finalMessageId && deps.messages) {
    // The hash needs the text; without a reader (or when Foundry is unreachable) the bundle still names the message ID.
    finalMessage = await deps.messages.finalMessage(project, runId, head.finalMessageId).catch(() => undefined);
  }
  return buildEvidence({
    head,
    transitions,
    escalations: outbox,
    finalMessage,
    policy: deps.evidencePolicy ?? {},
    links: runLinks(baseUrl, project, runId),
    now: deps.now(),
  });
}

/**
 * Markdown export. A ticket document opens with "was escalated as …", so a run that never escalated
 * gets a neutral opening sentence and no Reason/Severity fields; an escalated run reads exactly like
 * its ticket for the latest escalation.
 */
export function evidenceMarkdown(bundle: EvidenceBundle): string {
  const escalations = bundle.escalations.filter((e) => e.kind === "escalation");
  const latest = escalations[escalations.length - 1];
  if (latest) return renderMarkdown(ticketDocument(bundle, { reason: latest.reason, severity: latest.severity, episode: latest.episode }));
  const placeholder: { reason: EscalationReason; severity: Severity } = { reason: "failed", severity: "low" };
  const blocks: Block[] = ticketDocument(bundle, placeholder).slice(1);
  const run = bundle.run;
  const opening: Block = {
    kind: "paragraph",
    content: [
      { text: "Evidence for run " },
      { text: run.runId, code: true },
      ...(run.threadId ? [{ text: " (thread " }, { text: run.threadId, code: true }, { text: ")" }] : []),
      ...(run.agentId ? [{ text: " of agent " }, { text: run.agentId, code: true }] : []),
      { text: " in project " },
      { text: run.project, code: true },
      { text: ". It has not escalated." },
      ...(run.status ? [{ text: " Current status: " }, { text: run.status, code: true }, { text: "." }] : []),
    ],
  };
  const withoutTrigger = blocks.map((b): Block => (b.kind === "fields" ? { ...b, rows: b.rows.filter((r) => r.label !== "Reason" && r.label !== "Severity") } : b));
  return renderMarkdown([opening, ...withoutTrigger]);
}
