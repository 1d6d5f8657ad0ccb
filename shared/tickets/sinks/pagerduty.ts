// PagerDuty Events API v2: trigger on open, re-trigger with the same dedup_key on update (PagerDuty
// folds it into the open alert), resolve on recovery.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
import type { Severity } from "../../model/run.js";
import { renderPagerDutyDetails } from "../render.js";
import { joinUrl, requestLabel, send } from "./http.js";
import type { OpenedTicket, TicketDraft, TicketSink } from "./types.js";

export interface PagerDutySinkOptions {
  name: string;
  baseUrl: string;
  routingKey: string;
  source: string;
  timeoutMs: number;
}

export const PAGERDUTY_SEVERITY: Record<Severity, "critical" | "error" | "warning" | "info"> = { critical: "critical", high: "error", medium: "warning", low: "info" };

/** PagerDuty limits: summary 1024 characters, dedup_key 255. */
const SUMMARY_LIMIT = 1024;
const DEDUP_KEY_LIMIT = 255;

/** `${runId}:${reason}`; a group key that already names its reason is used as is. */
export function pagerDutyDedupKey(t: Pick<TicketDraft, "key" | "reason">): string {
  const key = t.key.endsWith(`:${t.reason}`) ? t.key : `${t.key}:${t.reason}`;
  return key.slice(0, DEDUP_KEY_LIMIT);
}

export class PagerDutySink implements TicketSink {
  readonly name: string;
  // A #private field: options hold credentials, and JSON.stringify/util.inspect of a sink must not show them.
  readonly #o: PagerDutySinkOptions;
  constructor(options: PagerDutySinkOptions) {
    this.name = options.name;
    this.#o = options;
  }

  private async enqueue(event: Record<string, unknown>): Promise<void> {
    const url = joinUrl(this.#o.baseUrl, "/v2/enqueue");
    await send(this.name, {
      method: "POST",
      url,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ routing_key: this.#o.routingKey, ...event }),
      timeoutMs: this.#o.timeoutMs,
      label: requestLabel("POST", url),
      secrets: [this.#o.routingKey],
    });
  }

  private trigger(dedupKey: string, t: TicketDraft): Promise<void> {
    const links = [t.bundle.links.dashboard && { href: t.bundle.links.dashboard, text: "Run in the monitor dashboard" }, t.bundle.links.api && { href: t.bundle.links.api, text: "Run evidence (API)" }].filter(Boolean);
    return this.enqueue({
      event_action: "trigger",
      dedup_key: dedupKey,
      payload: {
        summary: t.title.slice(0, SUMMARY_LIMIT),
        source: this.#o.source,
        severity: PAGERDUTY_SEVERITY[t.severity],
        component: t.bundle.run.agentId ?? t.bundle.run.agentName,
        group: t.bundle.run.project,
        class: t.reason,
        timestamp: t.bundle.generatedAt,
        custom_details: renderPagerDutyDetails(t.bundle, { reason: t.reason, severity: t.severity, episode: t.episode }),
      },
      ...(links.length ? { links } : {}),
      client: "foundry-run-monitor",
      ...(t.bundle.links.dashboard ? { client_url: t.bundle.links.dashboard } : {}),
    });
  }

  async open(t: TicketDraft): Promise<OpenedTicket> {
    const dedupKey = pagerDutyDedupKey(t);
    await this.trigger(dedupKey, t);
    return { externalId: dedupKey };
  }

  async update(externalId: string, t: TicketDraft, _note: string): Promise<void> {
    // The Events API has no comments: a trigger with the open alert's dedup_key refreshes it.
    await this.trigger(externalId, t);
  }

  async resolve(externalId: string, _t: TicketDraft): Promise<void> {
    await this.enqueue({ event_action: "resolve", dedup_key: externalId });
  }
}
