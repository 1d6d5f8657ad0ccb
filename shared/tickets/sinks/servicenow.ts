// ServiceNow Table API: one incident per ticket, later escalations as work notes.
// https://docs.servicenow.com → REST API → Table API (POST/PATCH /api/now/table/{tableName}).
import type { Severity } from "../../model/run.js";
import { renderTicket, renderUpdate } from "../render.js";
import { joinUrl, requestLabel, send, unexpectedBody } from "./http.js";
import type { OpenedTicket, TicketDraft, TicketSink } from "./types.js";

export interface ServiceNowSinkOptions {
  name: string;
  instanceUrl: string;
  /** Full Authorization header value (Basic … or Bearer …). */
  authorization: string;
  credentials: string[];
  assignmentGroup?: string;
  category?: string;
  callerId?: string;
  timeoutMs: number;
}

/** ServiceNow urgency/impact: 1 = High, 2 = Medium, 3 = Low; priority is derived by the instance's lookup rules. */
export const SERVICENOW_URGENCY_IMPACT: Record<Severity, { urgency: string; impact: string }> = {
  critical: { urgency: "1", impact: "1" },
  high: { urgency: "1", impact: "2" },
  medium: { urgency: "2", impact: "2" },
  low: { urgency: "3", impact: "3" },
};

/** short_description is a 160-character string field on task. */
const SHORT_DESCRIPTION_LIMIT = 160;

export class ServiceNowSink implements TicketSink {
  readonly name: string;
  // A #private field: options hold credentials, and JSON.stringify/util.inspect of a sink must not show them.
  readonly #o: ServiceNowSinkOptions;
  constructor(options: ServiceNowSinkOptions) {
    this.name = options.name;
    this.#o = options;
  }

  private headers(): Record<string, string> {
    return { Authorization: this.#o.authorization, Accept: "application/json", "Content-Type": "application/json" };
  }

  async open(t: TicketDraft): Promise<OpenedTicket> {
    const url = joinUrl(this.#o.instanceUrl, "/api/now/table/incident") + "?sysparm_fields=sys_id,number&sysparm_exclude_reference_link=true";
    const rendered = renderTicket(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode });
    const record: Record<string, string> = {
      short_description: t.title.slice(0, SHORT_DESCRIPTION_LIMIT),
      description: rendered.serviceNow,
      ...SERVICENOW_URGENCY_IMPACT[t.severity],
      // correlation_id lets the desk (and us, after a crash) find the incident for a run.
      correlation_id: t.key,
      correlation_display: "foundry-run-monitor",
    };
    if (this.#o.assignmentGroup) record.assignment_group = this.#o.assignmentGroup;
    if (this.#o.category) record.category = this.#o.category;
    if (this.#o.callerId) record.caller_id = this.#o.callerId;
    const label = requestLabel("POST", url);
    const res = await send(this.name, { method: "POST", url, headers: this.headers(), body: JSON.stringify(record), timeoutMs: this.#o.timeoutMs, label, secrets: this.#o.credentials });
    const result = (res.json as { result?: { sys_id?: unknown; number?: unknown } } | undefined)?.result;
    if (typeof result?.sys_id !== "string") throw unexpectedBody(this.name, label, "result.sys_id");
    return { externalId: result.sys_id, url: joinUrl(this.#o.instanceUrl, `/nav_to.do?uri=incident.do%3Fsys_id%3D${encodeURIComponent(result.sys_id)}`) };
  }

  async update(externalId: string, t: TicketDraft, note: string): Promise<void> {
    const url = joinUrl(this.#o.instanceUrl, `/api/now/table/incident/${encodeURIComponent(externalId)}`) + "?sysparm_fields=sys_id";
    const rendered = renderUpdate(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode }, note);
    await send(this.name, {
      method: "PATCH",
      url,
      headers: this.headers(),
      body: JSON.stringify({ work_notes: rendered.serviceNow }),
      timeoutMs: this.#o.timeoutMs,
      label: requestLabel("PATCH", url),
      secrets: this.#o.credentials,
    });
  }
}
