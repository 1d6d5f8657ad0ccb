// Renders the ticket document for each target. The only differences between targets are syntax
// and escaping; content comes from document.ts.
import type { EvidenceBundle } from "./evidence.js";
import { type Block, type Inline, type TicketTrigger, ticketDocument, ticketTitle, updateDocument } from "./document.js";
import { escapeHtml, escapeMarkdown, escapeServiceNow, markdownCode, markdownQuote, oneLine, safeHref, stripControl, truncate } from "./escape.js";

export { type TicketTrigger, ticketTitle, formatDuration } from "./document.js";

// ---------- plain text (and ServiceNow, which is plain text with its own escaping) ----------

function plainInline(content: Inline[]): string {
  return content.map((i) => oneLine(i.text)).join("");
}

function renderPlainWith(blocks: Block[], esc: (s: string) => string): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "heading":
        out.push("", `== ${b.text} ==`);
        break;
      case "paragraph":
        out.push(esc(plainInline(b.content)));
        break;
      case "fields":
        for (const r of b.rows) out.push(`${r.label}: ${esc(plainInline(r.value))}`);
        break;
      case "table":
        out.push(b.columns.join(" | "));
        for (const row of b.rows) out.push("- " + row.map((cell) => esc(plainInline([cell]))).join(" | "));
        break;
      case "code":
        out.push(
          ...esc(stripControl(b.text))
            .split("\n")
            .map((l) => "    " + l),
        );
        break;
    }
  }
  return out.join("\n").trim() + "\n";
}

export const renderPlainText = (blocks: Block[]): string => renderPlainWith(blocks, (s) => stripControl(s));

/** ServiceNow fields are plain text; `description` and journal entries hold at most 4,000 characters by default. */
export const SERVICENOW_TEXT_LIMIT = 4000;
export const renderServiceNowText = (blocks: Block[]): string => truncate(renderPlainWith(blocks, escapeServiceNow), SERVICENOW_TEXT_LIMIT);

// ---------- Markdown (the canonical body) ----------

function mdInline(content: Inline[]): string {
  return content
    .map((i) => {
      const href = safeHref(i.href);
      if (href) return `[${escapeMarkdown(i.text)}](<${href.replace(/[<>\s]/g, encodeURIComponent)}>)`;
      if (i.code) return markdownCode(i.text);
      return i.strong ? `**${escapeMarkdown(i.text)}**` : escapeMarkdown(i.text);
    })
    .join("");
}

export function renderMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "heading":
        out.push(`### ${escapeMarkdown(b.text)}`, "");
        break;
      case "paragraph":
        out.push(mdInline(b.content), "");
        break;
      case "fields":
        for (const r of b.rows) out.push(`- **${escapeMarkdown(r.label)}:** ${mdInline(r.value)}`);
        out.push("");
        break;
      case "table":
        out.push(`| ${b.columns.map(escapeMarkdown).join(" | ")} |`, `|${b.columns.map(() => " --- |").join("")}`);
        // A pipe inside a code span still splits a GFM table cell, so cells use escaped text only.
        for (const row of b.rows) out.push(`| ${row.map((cell) => (cell.code && !cell.text.includes("|") ? markdownCode(cell.text) : escapeMarkdown(cell.text))).join(" | ")} |`);
        out.push("");
        break;
      case "code":
        // Quoted and escaped line by line rather than fenced: a fence keeps `<script>` raw, and
        // plenty of tools that ingest Markdown bodies (chat relays, HTML emails) ignore fences.
        out.push(markdownQuote(b.text), "");
        break;
    }
  }
  return out.join("\n").trim() + "\n";
}

// ---------- HTML (Azure DevOps System.Description / comments) ----------

function htmlInline(content: Inline[]): string {
  return content
    .map((i) => {
      const href = safeHref(i.href);
      if (href) return `<a href="${escapeHtml(href)}">${escapeHtml(oneLine(i.text))}</a>`;
      const text = escapeHtml(oneLine(i.text));
      if (i.code) return `<code>${text}</code>`;
      return i.strong ? `<strong>${text}</strong>` : text;
    })
    .join("");
}

export function renderHtml(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "heading":
        out.push(`<h3>${escapeHtml(b.text)}</h3>`);
        break;
      case "paragraph":
        out.push(`<p>${htmlInline(b.content)}</p>`);
        break;
      case "fields":
        out.push(`<ul>${b.rows.map((r) => `<li><strong>${escapeHtml(r.label)}:</strong> ${htmlInline(r.value)}</li>`).join("")}</ul>`);
        break;
      case "table":
        out.push(
          `<table><thead><tr>${b.columns.map((col) => `<th>${escapeHtml(col)}</th>`).join("")}</tr></thead><tbody>` +
            b.rows.map((row) => `<tr>${row.map((cell) => `<td>${htmlInline([cell])}</td>`).join("")}</tr>`).join("") +
            `</tbody></table>`,
        );
        break;
      case "code":
        out.push(`<pre>${escapeHtml(b.text)}</pre>`);
        break;
    }
  }
  return out.join("\n");
}

// ---------- Atlassian Document Format (Jira Cloud REST v3) ----------

export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  marks?: { type: string; attrs?: Record<string, unknown> }[];
}

/** ADF rejects empty text nodes. Text nodes are never parsed for markup, so run content needs no escaping beyond that. */
function adfText(text: string, marks?: AdfNode["marks"]): AdfNode {
  const node: AdfNode = { type: "text", text: text === "" ? "—" : text };
  if (marks && marks.length) node.marks = marks;
  return node;
}

function adfInline(content: Inline[]): AdfNode[] {
  return content.map((i) => {
    const href = safeHref(i.href);
    const text = oneLine(i.text);
    if (href) return adfText(text, [{ type: "link", attrs: { href } }]);
    if (i.code) return adfText(text, [{ type: "code" }]);
    return adfText(text, i.strong ? [{ type: "strong" }] : undefined);
  });
}

const adfParagraph = (content: AdfNode[]): AdfNode => ({ type: "paragraph", content });

function adfBlocks(blocks: Block[]): AdfNode[] {
  return blocks.map((b): AdfNode => {
    switch (b.kind) {
      case "heading":
        return { type: "heading", attrs: { level: 3 }, content: [adfText(b.text)] };
      case "paragraph":
        return adfParagraph(adfInline(b.content));
      case "fields":
        return {
          type: "bulletList",
          content: b.rows.map((r) => ({ type: "listItem", content: [adfParagraph([adfText(`${r.label}: `, [{ type: "strong" }]), ...adfInline(r.value)])] })),
        };
      case "table":
        return {
          type: "table",
          attrs: { isNumberColumnEnabled: false, layout: "default" },
          content: [
            { type: "tableRow", content: b.columns.map((col) => ({ type: "tableHeader", content: [adfParagraph([adfText(col)])] })) },
            ...b.rows.map((row) => ({ type: "tableRow", content: row.map((cell) => ({ type: "tableCell", content: [adfParagraph(adfInline([cell]))] })) })),
          ],
        };
      case "code":
        return { type: "codeBlock", attrs: { language: "text" }, content: [adfText(stripControl(b.text))] };
    }
  });
}

export function renderAdf(blocks: Block[]): AdfNode & { version: 1 } {
  return { type: "doc", version: 1, content: adfBlocks(blocks) };
}

// ---------- PagerDuty custom_details (shown as key/value pairs, no markup) ----------

export function renderPagerDutyDetails(bundle: EvidenceBundle, trigger: TicketTrigger): Record<string, unknown> {
  const r = bundle.run;
  const details: Record<string, unknown> = {
    reason: trigger.reason,
    severity: trigger.severity,
    episode: trigger.episode,
    status: r.status,
    run_id: r.runId,
    thread_id: r.threadId,
    agent_id: r.agentId,
    agent_name: r.agentName,
    agent_version: r.agentVersion,
    project: r.project,
    api: r.api,
    model: r.model,
    session: r.session,
    owner: r.owner,
    tags: r.tags,
    error_code: bundle.error?.code,
    error_message: bundle.error?.message,
    incomplete_reason: bundle.incompleteReason,
    timestamps: bundle.timestamps,
    tool_calls: bundle.toolCalls.map((tc) => ({ type: tc.type, name: tc.name, status: tc.status, duration_ms: tc.durationMs, running_for_ms: tc.runningForMs })),
    usage: bundle.usage,
    final_message: bundle.finalMessage && { id: bundle.finalMessage.id, role: bundle.finalMessage.role, length: bundle.finalMessage.length, sha256: bundle.finalMessage.sha256 },
    dashboard: bundle.links.dashboard,
    api_link: bundle.links.api,
  };
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
}

// ---------- everything at once ----------

export interface RenderedTicket {
  title: string;
  /** The canonical body: what the ledger, the file sink and `simulate` record. */
  markdown: string;
  text: string;
  serviceNow: string;
  html: string;
  adf: AdfNode & { version: 1 };
  pagerDuty: Record<string, unknown>;
}

/** Titles go into Jira `summary` (≤ 255 characters, one line) and ServiceNow `short_description` (≤ 160). */
export const TITLE_LIMIT = 255;

export function renderTicket(bundle: EvidenceBundle, trigger: TicketTrigger): RenderedTicket {
  const blocks = ticketDocument(bundle, trigger);
  return {
    title: truncate(oneLine(ticketTitle(bundle, trigger)).trim(), TITLE_LIMIT, "…"),
    markdown: renderMarkdown(blocks),
    text: renderPlainText(blocks),
    serviceNow: renderServiceNowText(blocks),
    html: renderHtml(blocks),
    adf: renderAdf(blocks),
    pagerDuty: renderPagerDutyDetails(bundle, trigger),
  };
}

export type RenderedUpdate = Omit<RenderedTicket, "title" | "pagerDuty">;

export function renderUpdate(bundle: EvidenceBundle, trigger: TicketTrigger, note: string): RenderedUpdate {
  const blocks = updateDocument(bundle, trigger, note);
  return { markdown: renderMarkdown(blocks), text: renderPlainText(blocks), serviceNow: renderServiceNowText(blocks), html: renderHtml(blocks), adf: renderAdf(blocks) };
}
