import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import { buildEvidence } from "../../shared/tickets/evidence.js";
import { escapeMarkdown, escapeServiceNow, markdownCode } from "../../shared/tickets/escape.js";
import { exampleEvidenceInput } from "../../shared/tickets/example.js";
import { type AdfNode, renderTicket, renderUpdate } from "../../shared/tickets/render.js";
import { adfProblems, adfText } from "../support/fake-ticket-servers.js";
import { repoRoot } from "../support/paths.js";

const RUN = "run_IcGHs5uLnkuryPW7UTB9EUP8";
const THREAD = "thread_PbA2PKEmQSFrYIjd4dYa9cTB";
const AGENT = "asst_1ldWQqiEfDpLQX2tgMSjgRdd";

/** An error message and agent name written to break out of every ticket format at once. */
const HOSTILE = "Tool failed <script>alert(1)</script> *bold* _em_ [link](https://evil.example) {code}x{code} [code]<img src=x onerror=alert(2)>[/code] a|b `tick` & done";
function hostileBundle() {
  const input = exampleEvidenceInput();
  return buildEvidence({ ...input, head: { ...input.head, agentName: "*bold*[x](https://evil.example)<b>", lastError: { code: "tool_error", message: HOSTILE } } });
}

function allMarks(node: AdfNode): { type: string; attrs?: Record<string, unknown> }[] {
  return [...(node.marks ?? []), ...(node.content ?? []).flatMap(allMarks)];
}

describe("ticket rendering", () => {
  const bundle = buildEvidence(exampleEvidenceInput());

  it("titles a ticket `[severity] reason — agent — runId`", () => {
    expect(renderTicket(bundle, { reason: "stalled-in-progress", severity: "high" }).title).toBe(`[high] stalled-in-progress — payments-helper — ${RUN}`);
    const noName = buildEvidence({ ...exampleEvidenceInput(), head: { ...exampleEvidenceInput().head, agentName: undefined } });
    expect(renderTicket(noName, { reason: "failed", severity: "critical" }).title).toBe(`[critical] failed — ${AGENT} — ${RUN}`);
  });

  it("puts run, thread and agent IDs and the reason code verbatim in every text format", () => {
    const r = renderTicket(bundle, { reason: "stalled-in-progress", severity: "high", episode: 2 });
    for (const text of [r.markdown, r.text, r.serviceNow, r.html, adfText(r.adf)]) {
      for (const needle of [RUN, THREAD, AGENT, "stalled-in-progress", "server_error", "gpt-4o", "msg_WMmJ1Ot0yxbpG6kcG5YO3Ch0", "call_u1Q3ZkL0wq3NYOOgAuSfTb1p"]) expect(text).toContain(needle);
    }
    expect(r.markdown).toContain("crm\\_search"); // tool name: free text, escaped
    expect(r.text).toContain(`Run ${RUN} (thread ${THREAD}) of agent ${AGENT} in project prod was escalated as stalled-in-progress (severity high, episode 2).`);
    expect(r.markdown).toContain(`Run \`${RUN}\` (thread \`${THREAD}\`) of agent \`${AGENT}\``);
    expect(r.markdown).toContain("7 s"); // tool duration
    expect(r.markdown).toContain("Message text withheld by policy");
    expect(r.pagerDuty).toMatchObject({ run_id: RUN, thread_id: THREAD, agent_id: AGENT, reason: "stalled-in-progress", error_code: "server_error" });
  });

  it("carries no secret or personal data from the error or the final message", () => {
    const r = renderTicket(buildEvidence(exampleEvidenceInput({ policy: { includeMessageText: true } })), { reason: "failed", severity: "high" });
    const all = JSON.stringify(r);
    expect(all).not.toContain("jane.doe@contoso.com");
    expect(all).not.toContain("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789");
    expect(r.markdown).toContain("I could not look up the customer record");
  });

  it("Markdown: run content renders as text, never as emphasis, links or HTML", () => {
    const md = renderTicket(hostileBundle(), { reason: "failed", severity: "high" }).markdown;
    expect(md).not.toMatch(/<script|<img|<b>/);
    expect(md).toContain("&lt;script&gt;");
    expect(md).toContain("\\*bold\\*");
    expect(md).toContain("\\[link\\](https://evil.example)");
    expect(md).toContain("\\{code\\}");
    expect(md).toContain("a\\|b");
    expect(md).toContain("\\`tick\\`");
    // The only Markdown links are our own.
    const links = [...md.matchAll(/(?<!\\)\[[^\]]*(?<!\\)\]\(<?([^)>]*)>?\)/g)].map((m) => m[1]);
    expect(links.every((href) => href.startsWith("https://func-runmon-x7k2.azurewebsites.net/"))).toBe(true);
    expect(links).toHaveLength(2);
  });

  it("HTML (Azure DevOps): every tag in run content is entity-encoded", () => {
    const html = renderTicket(hostileBundle(), { reason: "failed", severity: "high" }).html;
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(2)&gt;");
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.every((h) => h.startsWith("https://func-runmon-x7k2.azurewebsites.net/"))).toBe(true);
  });

  it("ADF (Jira): run content stays in plain text nodes, the only marks are ours", () => {
    const adf = renderTicket(hostileBundle(), { reason: "failed", severity: "high" }).adf;
    expect(adfProblems(adf)).toEqual([]);
    expect(adf).toMatchObject({ type: "doc", version: 1 });
    expect(adfText(adf)).toContain(HOSTILE); // literal: ADF text is never parsed as markup
    const links = allMarks(adf).filter((m) => m.type === "link");
    expect(links.map((l) => String(l.attrs?.href)).every((h) => h.startsWith("https://func-runmon-x7k2.azurewebsites.net/"))).toBe(true);
  });

  it("ServiceNow: HTML and [code] blocks are neutralized in description and work notes", () => {
    const b = hostileBundle();
    const sn = renderTicket(b, { reason: "failed", severity: "high" }).serviceNow;
    const note = renderUpdate(b, { reason: "failed", severity: "high" }, "Escalated again <b>now</b> [code]x[/code]").serviceNow;
    for (const text of [sn, note]) {
      expect(text).not.toMatch(/<script|<img|<b>/);
      expect(text).not.toMatch(/\[\s*\/?\s*code\s*\]/i);
      expect(text).toContain("&lt;script&gt;");
    }
    expect(sn.length).toBeLessThanOrEqual(4000);
  });

  it("keeps a huge error message within ServiceNow's 4,000-character field", () => {
    const input = exampleEvidenceInput();
    const big = buildEvidence({ ...input, head: { ...input.head, lastError: { code: "server_error", message: "stack frame\n".repeat(2000) } } });
    const r = renderTicket(big, { reason: "failed", severity: "high" });
    expect(r.serviceNow.length).toBeLessThanOrEqual(4000);
    expect(r.serviceNow).toContain("(truncated)");
    expect(r.serviceNow).toContain(RUN);
  });

  it("strips control characters and keeps titles on one line", () => {
    const input = exampleEvidenceInput();
    const b = buildEvidence({ ...input, head: { ...input.head, agentName: "evil\u001b[31m\nname\u202e" } });
    const r = renderTicket(b, { reason: "failed", severity: "low" });
    expect(r.title).toBe(`[low] failed — evil[31m name — ${RUN}`);
    const all = r.markdown + r.text + r.html + r.serviceNow;
    expect(all.includes("\u001b") || all.includes("\u202e")).toBe(false);
  });

  it("escape helpers: code spans survive backticks, Markdown escapes are reversible by CommonMark", () => {
    expect(markdownCode("a`b")).toBe("``a`b``");
    expect(markdownCode("`x")).toBe("`` `x ``");
    expect(escapeMarkdown("<a> & [b](c) *d*")).toBe("&lt;a&gt; &amp; \\[b\\](c) \\*d\\*");
    expect(escapeServiceNow("[CODE]<p>[/ code]")).toBe("(CODE)&lt;p&gt;(/ code)");
  });

  it("an update note says what changed and carries the IDs", () => {
    const u = renderUpdate(bundle, { reason: "stalled-requires-action", severity: "medium", episode: 2 }, "Escalated again: stalled-requires-action (episode 2)");
    for (const text of [u.markdown, u.text, u.serviceNow, u.html, adfText(u.adf)]) {
      for (const needle of [RUN, THREAD, AGENT, "stalled-requires-action"]) expect(text).toContain(needle);
    }
    expect(adfProblems(u.adf)).toEqual([]);
  });

  it("docs/tickets.md shows exactly what the code renders for the example", () => {
    const doc = readFileSync(path.join(repoRoot(), "docs", "tickets.md"), "utf8");
    const r = renderTicket(buildEvidence(exampleEvidenceInput()), { reason: "failed", severity: "high", episode: 1 });
    expect(doc).toContain(r.title);
    expect(doc).toContain(r.markdown.trimEnd());
  });
});
