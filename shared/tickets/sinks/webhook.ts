// Generic webhook: POST JSON, signed like Stripe/Slack-style webhooks so the receiver can check
// origin and freshness: X-Signature = sha256=HMAC-SHA256(secret, `${timestamp}.${body}`).
import { createHmac } from "node:crypto";
import type { EvidenceBundle } from "../evidence.js";
import { send } from "./http.js";
import type { OpenedTicket, TicketDraft, TicketSink } from "./types.js";

export interface WebhookSinkOptions {
  name: string;
  url: string;
  secret: string;
  timeoutMs: number;
  now: () => number;
}

export interface WebhookPayload {
  action: "open" | "update" | "resolve";
  key: string;
  externalId?: string;
  title: string;
  severity: string;
  reason: string;
  episode?: number;
  body: string;
  note?: string;
  bundle: EvidenceBundle;
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

export class WebhookSink implements TicketSink {
  readonly name: string;
  // A #private field: options hold credentials, and JSON.stringify/util.inspect of a sink must not show them.
  readonly #o: WebhookSinkOptions;
  constructor(options: WebhookSinkOptions) {
    this.name = options.name;
    this.#o = options;
  }

  private async post(payload: WebhookPayload): Promise<unknown> {
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(this.#o.now() / 1000));
    const res = await send(this.name, {
      method: "POST",
      url: this.#o.url,
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "foundry-run-monitor",
        "X-Signature": signWebhook(this.#o.secret, timestamp, body),
        "X-Signature-Timestamp": timestamp,
        "Idempotency-Key": `${payload.action}:${payload.externalId ?? payload.key}:${payload.reason}:${payload.episode ?? 0}`,
      },
      body,
      timeoutMs: this.#o.timeoutMs,
      // Webhook URLs often carry a token in the path or query: never name them in errors.
      label: "POST webhook",
      secrets: [this.#o.secret, this.#o.url],
    });
    return res.json;
  }

  private payload(action: WebhookPayload["action"], t: TicketDraft, externalId?: string, note?: string): WebhookPayload {
    return { action, key: t.key, externalId, title: t.title, severity: t.severity, reason: t.reason, episode: t.episode, body: t.body, note, bundle: t.bundle };
  }

  async open(t: TicketDraft): Promise<OpenedTicket> {
    const json = (await this.post(this.payload("open", t))) as { id?: unknown; externalId?: unknown; url?: unknown } | undefined;
    // A receiver may answer with its own ID; otherwise the key is the ID.
    const id = json?.externalId ?? json?.id;
    return { externalId: typeof id === "string" || typeof id === "number" ? String(id) : t.key, url: typeof json?.url === "string" ? json.url : undefined };
  }

  async update(externalId: string, t: TicketDraft, note: string): Promise<void> {
    await this.post(this.payload("update", t, externalId, note));
  }

  async resolve(externalId: string, t: TicketDraft): Promise<void> {
    await this.post(this.payload("resolve", t, externalId));
  }
}
