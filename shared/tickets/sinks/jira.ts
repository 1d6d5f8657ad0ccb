// Jira Cloud REST API v3: create an issue with an ADF description, later escalations as ADF comments.
// https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
import { renderTicket, renderUpdate } from "../render.js";
import { joinUrl, requestLabel, send, unexpectedBody } from "./http.js";
import type { OpenedTicket, TicketDraft, TicketSink } from "./types.js";

export interface JiraSinkOptions {
  name: string;
  baseUrl: string;
  authorization: string;
  credentials: string[];
  projectKey: string;
  issueType: string;
  labels: string[];
  timeoutMs: number;
}

/** Jira labels cannot contain spaces. */
const label = (s: string): string => s.replace(/\s+/g, "-");

export class JiraSink implements TicketSink {
  readonly name: string;
  // A #private field: options hold credentials, and JSON.stringify/util.inspect of a sink must not show them.
  readonly #o: JiraSinkOptions;
  constructor(options: JiraSinkOptions) {
    this.name = options.name;
    this.#o = options;
  }

  private headers(): Record<string, string> {
    return { Authorization: this.#o.authorization, Accept: "application/json", "Content-Type": "application/json" };
  }

  async open(t: TicketDraft): Promise<OpenedTicket> {
    const url = joinUrl(this.#o.baseUrl, "/rest/api/3/issue");
    const rendered = renderTicket(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode });
    const fields = {
      project: { key: this.#o.projectKey },
      issuetype: { name: this.#o.issueType },
      // summary: one line, at most 255 characters (the renderer guarantees both).
      summary: rendered.title,
      description: rendered.adf,
      labels: [...new Set([...this.#o.labels, "foundry-run-monitor", t.reason, `severity-${t.severity}`].map(label))],
    };
    const lbl = requestLabel("POST", url);
    const res = await send(this.name, { method: "POST", url, headers: this.headers(), body: JSON.stringify({ fields }), timeoutMs: this.#o.timeoutMs, label: lbl, secrets: this.#o.credentials });
    const key = (res.json as { key?: unknown } | undefined)?.key;
    if (typeof key !== "string") throw unexpectedBody(this.name, lbl, "issue key");
    return { externalId: key, url: joinUrl(this.#o.baseUrl, `/browse/${encodeURIComponent(key)}`) };
  }

  async update(externalId: string, t: TicketDraft, note: string): Promise<void> {
    const url = joinUrl(this.#o.baseUrl, `/rest/api/3/issue/${encodeURIComponent(externalId)}/comment`);
    const rendered = renderUpdate(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode }, note);
    await send(this.name, {
      method: "POST",
      url,
      headers: this.headers(),
      body: JSON.stringify({ body: rendered.adf }),
      timeoutMs: this.#o.timeoutMs,
      label: requestLabel("POST", url),
      secrets: this.#o.credentials,
    });
  }
}
