// Azure DevOps Boards: a work item created with JSON Patch, later escalations as comments.
// https://learn.microsoft.com/rest/api/azure/devops/wit/work-items/create?view=azure-devops-rest-7.1
import type { Severity } from "../../model/run.js";
import { renderTicket, renderUpdate } from "../render.js";
import { joinUrl, requestLabel, send, unexpectedBody } from "./http.js";
import type { OpenedTicket, TicketDraft, TicketSink } from "./types.js";

export interface AzureDevOpsSinkOptions {
  name: string;
  /** https://dev.azure.com/{organization} (or an Azure DevOps Server collection URL). */
  organizationUrl: string;
  project: string;
  workItemType: string;
  areaPath?: string;
  /** Returns the Authorization header value: "Bearer <Entra token>" or "Basic <PAT>". Called per request so tokens refresh. */
  authorization: () => Promise<string>;
  credentials: () => string[];
  timeoutMs: number;
}

/** The allowed values of Microsoft.VSTS.Common.Severity in the Agile/Scrum/CMMI processes. */
export const ADO_SEVERITY: Record<Severity, string> = { critical: "1 - Critical", high: "2 - High", medium: "3 - Medium", low: "4 - Low" };

export interface JsonPatchOp {
  op: "add";
  path: string;
  value: string;
}

export class AzureDevOpsSink implements TicketSink {
  readonly name: string;
  // A #private field: options hold credentials, and JSON.stringify/util.inspect of a sink must not show them.
  readonly #o: AzureDevOpsSinkOptions;
  constructor(options: AzureDevOpsSinkOptions) {
    this.name = options.name;
    this.#o = options;
  }

  private projectUrl(path: string): string {
    return joinUrl(this.#o.organizationUrl, `/${encodeURIComponent(this.#o.project)}${path}`);
  }

  async open(t: TicketDraft): Promise<OpenedTicket> {
    const url = this.projectUrl(`/_apis/wit/workitems/$${encodeURIComponent(this.#o.workItemType)}?api-version=7.1`);
    const rendered = renderTicket(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode });
    const ops: JsonPatchOp[] = [
      // System.Title is limited to 255 characters.
      { op: "add", path: "/fields/System.Title", value: rendered.title },
      { op: "add", path: "/fields/System.Description", value: rendered.html },
      { op: "add", path: "/fields/Microsoft.VSTS.Common.Severity", value: ADO_SEVERITY[t.severity] },
      // Tags are separated by "; " — strip separators out of values we don't control.
      { op: "add", path: "/fields/System.Tags", value: ["foundry-run-monitor", t.reason, t.key].map((x) => x.replace(/[;,]/g, " ")).join("; ") },
    ];
    // The Bug form shows Repro Steps, not Description; fill both so the evidence is visible.
    if (this.#o.workItemType.toLowerCase() === "bug") ops.push({ op: "add", path: "/fields/Microsoft.VSTS.TCM.ReproSteps", value: rendered.html });
    if (this.#o.areaPath) ops.push({ op: "add", path: "/fields/System.AreaPath", value: this.#o.areaPath });
    const authorization = await this.#o.authorization();
    const lbl = requestLabel("POST", url);
    const res = await send(this.name, {
      method: "POST",
      url,
      headers: { Authorization: authorization, Accept: "application/json", "Content-Type": "application/json-patch+json" },
      body: JSON.stringify(ops),
      timeoutMs: this.#o.timeoutMs,
      label: lbl,
      secrets: [authorization, ...this.#o.credentials()],
    });
    const json = res.json as { id?: unknown; _links?: { html?: { href?: unknown } } } | undefined;
    if (typeof json?.id !== "number" && typeof json?.id !== "string") throw unexpectedBody(this.name, lbl, "work item id");
    const href = json._links?.html?.href;
    return { externalId: String(json.id), url: typeof href === "string" ? href : undefined };
  }

  async update(externalId: string, t: TicketDraft, note: string): Promise<void> {
    const url = this.projectUrl(`/_apis/wit/workItems/${encodeURIComponent(externalId)}/comments?api-version=7.1-preview.4`);
    const rendered = renderUpdate(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode }, note);
    const authorization = await this.#o.authorization();
    await send(this.name, {
      method: "POST",
      url,
      headers: { Authorization: authorization, Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ text: rendered.html }),
      timeoutMs: this.#o.timeoutMs,
      label: requestLabel("POST", url),
      secrets: [authorization, ...this.#o.credentials()],
    });
  }
}
