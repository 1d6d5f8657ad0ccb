// What a ticket says, independent of how a target formats it. Every renderer walks the same
// blocks, so the Markdown body, the Jira ADF, the Azure DevOps HTML and the ServiceNow text can
// never disagree about the evidence — they only differ in escaping.
import type { EscalationReason, Severity } from "../model/run.js";
import type { OutboxRemediation } from "../store/types.js";
import type { EvidenceBundle } from "./evidence.js";

/** The escalation a ticket (or an update) is about. */
export interface TicketTrigger {
  reason: EscalationReason;
  severity: Severity;
  episode?: number;
  /** Side-effecting tool calls that completed before the run failed/expired/was cancelled (never arguments). */
  sideEffectCalls?: { name: string; at?: number; status: string }[];
  /** Opt-in remediation the monitor carried out for this escalation (policy `insights.remediation`). */
  remediation?: OutboxRemediation;
}

const REMEDIATION_OUTCOME = { done: "done", refused: "refused by Foundry", failed: "failed (not tried again)" } as const;

/** What the monitor already did to the run, so support neither repeats it nor misses it. */
function remediationBlocks(trigger: TicketTrigger): Block[] {
  const r = trigger.remediation;
  if (!r?.state) return [];
  const what = r.action === "cancel" ? "Cancelled the run (it was stuck)" : `Started the agent again on the same thread (retry ${r.attempt} of `;
  const action: Inline[] = r.action === "cancel" ? [t(what)] : [t(what), c(r.rootRunId), t(")")];
  return [
    { kind: "heading", text: "Remediation by the monitor" },
    {
      kind: "fields",
      rows: [
        { label: "Action", value: action },
        ...textField("Outcome", REMEDIATION_OUTCOME[r.state]),
        ...textField("At (UTC)", r.at !== undefined ? new Date(r.at).toISOString() : undefined),
        ...codeField("New run", r.newRunId),
        ...textField("Detail", r.detail),
      ],
    },
  ];
}

/** Support checks the downstream system first when a broken run already changed something there. */
function sideEffectBlocks(trigger: TicketTrigger): Block[] {
  const calls = trigger.sideEffectCalls ?? [];
  if (calls.length === 0) return [];
  return [
    { kind: "heading", text: "Partial side effects: check the downstream system first" },
    {
      kind: "table",
      columns: ["Tool", "Completed (UTC)", "Status"],
      rows: calls.map((call) => [c(call.name), t(call.at !== undefined ? new Date(call.at).toISOString() : "—"), t(call.status)]),
    },
  ];
}

/** A run of inline content. `code` marks identifiers that must appear verbatim (run/thread/agent IDs, reason codes). */
export interface Inline {
  text: string;
  code?: boolean;
  strong?: boolean;
  href?: string;
}

export type Block =
  | { kind: "heading"; text: string }
  | { kind: "paragraph"; content: Inline[] }
  | { kind: "fields"; rows: { label: string; value: Inline[] }[] }
  | { kind: "table"; columns: string[]; rows: Inline[][] }
  | { kind: "code"; text: string };

const t = (text: string): Inline => ({ text });
const c = (text: string): Inline => ({ text, code: true });
const field = (label: string, value: Inline[] | undefined) => (value ? [{ label, value }] : []);
const codeField = (label: string, v: string | undefined) => field(label, v ? [c(v)] : undefined);
const textField = (label: string, v: string | number | undefined) => field(label, v === undefined || v === "" ? undefined : [t(String(v))]);

/** 850 ms, 42 s, 3m 05s, 2h 04m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export function ticketTitle(bundle: EvidenceBundle, trigger: TicketTrigger): string {
  const agent = bundle.run.agentName || bundle.run.agentId || "unknown agent";
  return `[${trigger.severity}] ${trigger.reason} — ${agent} — ${bundle.run.runId}`;
}

function summary(b: EvidenceBundle, trigger: TicketTrigger): Block {
  const content: Inline[] = [t("Run "), c(b.run.runId)];
  if (b.run.threadId) content.push(t(" (thread "), c(b.run.threadId), t(")"));
  if (b.run.agentId) content.push(t(" of agent "), c(b.run.agentId));
  content.push(t(" in project "), c(b.run.project), t(" was escalated as "), c(trigger.reason));
  content.push(t(` (severity ${trigger.severity}${trigger.episode ? `, episode ${trigger.episode}` : ""}).`));
  if (b.run.status) content.push(t(" Current status: "), c(b.run.status), t("."));
  return { kind: "paragraph", content };
}

function runFields(b: EvidenceBundle, trigger: TicketTrigger): Block {
  const r = b.run;
  const tags = Object.entries(r.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return {
    kind: "fields",
    rows: [
      ...codeField("Reason", trigger.reason),
      ...textField("Severity", trigger.severity),
      ...codeField("Status", r.status),
      ...codeField("Run ID", r.runId),
      ...codeField("Thread ID", r.threadId),
      ...codeField("Agent ID", r.agentId),
      ...textField("Agent name", r.agentName),
      ...textField("Agent version", r.agentVersion),
      ...codeField("Project", r.project),
      ...textField("API", r.api === "classic" ? "classic (threads/runs)" : "responses (v2)"),
      ...codeField("Model", r.model),
      ...textField("Session", r.session),
      ...textField("Owner", r.owner),
      ...textField("Tags", tags),
    ],
  };
}

function errorBlocks(b: EvidenceBundle): Block[] {
  if (!b.error && !b.incompleteReason) return [];
  const blocks: Block[] = [
    { kind: "heading", text: "Error" },
    { kind: "fields", rows: [...codeField("Code", b.error?.code), ...textField("Incomplete reason", b.incompleteReason)] },
  ];
  if (b.error?.message) blocks.push({ kind: "code", text: b.error.message });
  return blocks;
}

function timestampBlocks(b: EvidenceBundle): Block[] {
  const ts = b.timestamps;
  return [
    { kind: "heading", text: "Timestamps (UTC)" },
    {
      kind: "fields",
      rows: [
        ...textField("Created", ts.created),
        ...textField("Started", ts.started),
        ...textField("Completed", ts.completed),
        ...textField("Failed", ts.failed),
        ...textField("Cancelled", ts.cancelled),
        ...textField("Expires", ts.expires),
        ...textField("In current status since", ts.statusSince),
        ...textField("Last progress", ts.lastProgress),
        ...textField("Registered with the monitor", ts.registered),
      ],
    },
  ];
}

function toolBlocks(b: EvidenceBundle): Block[] {
  const blocks: Block[] = [{ kind: "heading", text: "Tool calls" }];
  if (b.toolCalls.length === 0) blocks.push({ kind: "paragraph", content: [t("No tool calls recorded.")] });
  else
    blocks.push({
      kind: "table",
      columns: ["Call ID", "Type", "Name", "Status", "Started", "Duration"],
      rows: b.toolCalls.map((tc) => [
        c(tc.id),
        t(tc.type),
        t(tc.name ?? "—"),
        t(tc.status),
        t(tc.startedAt ?? "—"),
        t(tc.durationMs !== undefined ? formatDuration(tc.durationMs) : tc.runningForMs !== undefined ? `running for ${formatDuration(tc.runningForMs)}` : "—"),
      ]),
    });
  if (b.pendingToolCalls.length > 0) {
    blocks.push({ kind: "paragraph", content: [t("Waiting for tool output:")] });
    blocks.push({ kind: "table", columns: ["Call ID", "Type", "Name"], rows: b.pendingToolCalls.map((p) => [c(p.id), t(p.type), t(p.name ?? "—")]) });
  }
  const args = b.policy.includeToolArguments ? "allowed by policy but not collected by the monitor" : "withheld by policy";
  blocks.push({ kind: "paragraph", content: [t(`Tool arguments and outputs: ${args}.`)] });
  return blocks;
}

function timelineBlocks(b: EvidenceBundle): Block[] {
  if (b.timeline.length === 0) return [];
  return [
    { kind: "heading", text: "Status timeline" },
    { kind: "table", columns: ["#", "At (UTC)", "From", "To"], rows: b.timeline.map((x) => [t(String(x.seq)), t(x.at), x.from ? c(x.from) : t("—"), c(x.to)]) },
  ];
}

function escalationBlocks(b: EvidenceBundle): Block[] {
  if (b.escalations.length === 0) return [];
  return [
    { kind: "heading", text: "Escalations" },
    {
      kind: "table",
      columns: ["At (UTC)", "Reason", "Episode", "Severity", "Owner", "Kind"],
      rows: b.escalations.map((e) => [t(e.at), c(e.reason), t(String(e.episode)), t(e.severity), t(e.owner), t(e.kind)]),
    },
  ];
}

function usageBlocks(b: EvidenceBundle): Block[] {
  if (!b.usage) return [];
  return [
    { kind: "heading", text: "Usage (tokens)" },
    { kind: "fields", rows: [...textField("Prompt", b.usage.promptTokens), ...textField("Completion", b.usage.completionTokens), ...textField("Total", b.usage.totalTokens)] },
  ];
}

function finalMessageBlocks(b: EvidenceBundle): Block[] {
  const m = b.finalMessage;
  if (!m) return [];
  const blocks: Block[] = [
    { kind: "heading", text: "Final message" },
    {
      kind: "fields",
      rows: [...codeField("Message ID", m.id), ...textField("Role", m.role), ...textField("Length (characters)", m.length), ...codeField("SHA-256", m.sha256)],
    },
  ];
  if (m.text !== undefined) blocks.push({ kind: "code", text: m.text || "(empty)" });
  else if (m.sha256) blocks.push({ kind: "paragraph", content: [t("Message text withheld by policy (metadata only).")] });
  return blocks;
}

function linkBlocks(b: EvidenceBundle): Block[] {
  const rows = [
    ...(b.links.dashboard ? [{ label: "Dashboard", value: [{ text: b.links.dashboard, href: b.links.dashboard }] }] : []),
    ...(b.links.api ? [{ label: "API", value: [{ text: b.links.api, href: b.links.api }] }] : []),
  ];
  return rows.length ? [{ kind: "heading", text: "Links" }, { kind: "fields", rows }] : [];
}

/** The full ticket: everything in the bundle, in the order a support engineer reads it. */
export function ticketDocument(bundle: EvidenceBundle, trigger: TicketTrigger): Block[] {
  return [
    summary(bundle, trigger),
    ...sideEffectBlocks(trigger),
    ...remediationBlocks(trigger),
    { kind: "heading", text: "Run" },
    runFields(bundle, trigger),
    ...errorBlocks(bundle),
    ...timestampBlocks(bundle),
    ...toolBlocks(bundle),
    ...timelineBlocks(bundle),
    ...escalationBlocks(bundle),
    ...usageBlocks(bundle),
    ...finalMessageBlocks(bundle),
    ...linkBlocks(bundle),
    {
      kind: "paragraph",
      content: [t(`Generated by foundry-run-monitor at ${bundle.generatedAt} (${bundle.schema}). Secrets and personal data are redacted.`)],
    },
  ];
}

/** An update (comment / work note): the note, where the run is now, and the latest error. */
export function updateDocument(bundle: EvidenceBundle, trigger: TicketTrigger, note: string): Block[] {
  return [
    { kind: "paragraph", content: [t(note)] },
    {
      kind: "fields",
      rows: [
        ...codeField("Reason", trigger.reason),
        ...textField("Severity", trigger.severity),
        ...textField("Episode", trigger.episode),
        ...codeField("Status", bundle.run.status),
        ...codeField("Run ID", bundle.run.runId),
        ...codeField("Thread ID", bundle.run.threadId),
        ...codeField("Agent ID", bundle.run.agentId),
        ...codeField("Error code", bundle.error?.code),
        ...textField("Error message", bundle.error?.message),
        ...textField("At (UTC)", bundle.generatedAt),
      ],
    },
    ...remediationBlocks(trigger),
    ...linkBlocks(bundle),
  ];
}
