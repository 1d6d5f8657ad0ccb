// The namespace's entities: topics fanning out to filtered subscriptions, queues, their
// dead-letter sub-queues, and duplicate detection. Addresses are resolved the way Service Bus
// does: case-insensitively, `topic/Subscriptions/sub[/$DeadLetterQueue]`.
import type { Message } from "rhea";
import { compileFilter, type MessagePredicate } from "./sql-filter.js";
import { MessageQueue, type QueueSettings } from "./message-queue.js";

export interface SubscriptionConfig {
  name: string;
  /** SQL-like filter on application properties (see sql-filter.ts); none = every message. */
  filter?: string;
  /** Default 10, as in Service Bus. */
  maxDeliveryCount?: number;
  /** Default 30000 (Service Bus default: 30 s; maximum 5 min). */
  lockDurationMs?: number;
}

export interface TopicConfig {
  name: string;
  /** Messages whose message_id was seen within this window are accepted and dropped. */
  duplicateDetectionWindowMs?: number;
  subscriptions: SubscriptionConfig[];
}

export interface QueueConfig {
  name: string;
  duplicateDetectionWindowMs?: number;
  maxDeliveryCount?: number;
  lockDurationMs?: number;
}

export interface EntitiesConfig {
  topics: TopicConfig[];
  queues?: QueueConfig[];
}

export type SendResult = "enqueued" | "duplicate";

/** Something a client can send to: a topic or a queue. */
export interface SendTarget {
  path: string;
  accept(message: Message): SendResult;
}

class DuplicateDetector {
  private readonly seen = new Map<string, number>();
  constructor(private readonly windowMs: number | undefined, private readonly now: () => number) {}

  /** True when this message_id was already accepted inside the window. Records it otherwise. */
  isDuplicate(messageId: unknown): boolean {
    if (!this.windowMs || messageId === undefined || messageId === null) return false;
    const key = Buffer.isBuffer(messageId) ? messageId.toString("hex") : String(messageId);
    const t = this.now();
    if (this.seen.size > 10_000) for (const [k, exp] of this.seen) if (exp <= t) this.seen.delete(k);
    const expiry = this.seen.get(key);
    if (expiry !== undefined && expiry > t) return true;
    this.seen.set(key, t + this.windowMs);
    return false;
  }
}

function settings(c: { maxDeliveryCount?: number; lockDurationMs?: number }): QueueSettings {
  return { maxDeliveryCount: c.maxDeliveryCount ?? 10, lockDurationMs: c.lockDurationMs ?? 30_000 };
}

function receivable(path: string, c: { maxDeliveryCount?: number; lockDurationMs?: number }, now: () => number): MessageQueue {
  const s = settings(c);
  const dlq = new MessageQueue(`${path}/$DeadLetterQueue`, { maxDeliveryCount: Number.POSITIVE_INFINITY, lockDurationMs: s.lockDurationMs }, undefined, now);
  return new MessageQueue(path, s, dlq, now);
}

/** The filter input Service Bus evaluates: application properties plus the `sys.` properties. */
function filterInput(m: Message) {
  return {
    user: (m.application_properties ?? {}) as Record<string, unknown>,
    sys: {
      MessageId: m.message_id,
      CorrelationId: m.correlation_id,
      Label: m.subject,
      To: m.to,
      ReplyTo: m.reply_to,
      ContentType: m.content_type,
      SessionId: m.group_id,
    },
  };
}

export class Namespace {
  private readonly targets = new Map<string, SendTarget>();
  private readonly receivables = new Map<string, MessageQueue>();
  readonly counters = { accepted: 0, duplicates: 0, unrouted: 0 };

  constructor(config: EntitiesConfig, private readonly now: () => number = Date.now) {
    for (const t of config.topics) this.addTopic(t);
    for (const q of config.queues ?? []) this.addQueue(q);
  }

  private addReceivable(q: MessageQueue): void {
    this.receivables.set(q.path.toLowerCase(), q);
    if (q.deadLetter) this.receivables.set(q.deadLetter.path.toLowerCase(), q.deadLetter);
  }

  private addTopic(t: TopicConfig): void {
    const subs: { queue: MessageQueue; matches: MessagePredicate }[] = t.subscriptions.map((s) => {
      const queue = receivable(`${t.name}/Subscriptions/${s.name}`, s, this.now);
      this.addReceivable(queue);
      return { queue, matches: compileFilter(s.filter) };
    });
    const dup = new DuplicateDetector(t.duplicateDetectionWindowMs, this.now);
    this.targets.set(t.name.toLowerCase(), {
      path: t.name,
      accept: (message) => {
        if (dup.isDuplicate(message.message_id)) return this.count("duplicate");
        const input = filterInput(message);
        let routed = 0;
        for (const s of subs) {
          if (s.matches(input)) {
            s.queue.enqueue({ ...message });
            routed++;
          }
        }
        if (routed === 0) this.counters.unrouted++;
        return this.count("enqueued");
      },
    });
  }

  private addQueue(c: QueueConfig): void {
    const queue = receivable(c.name, c, this.now);
    this.addReceivable(queue);
    const dup = new DuplicateDetector(c.duplicateDetectionWindowMs, this.now);
    this.targets.set(c.name.toLowerCase(), {
      path: c.name,
      accept: (message) => {
        if (dup.isDuplicate(message.message_id)) return this.count("duplicate");
        queue.enqueue(message);
        return this.count("enqueued");
      },
    });
  }

  private count(r: SendResult): SendResult {
    if (r === "duplicate") this.counters.duplicates++;
    else this.counters.accepted++;
    return r;
  }

  sendTarget(address: string): SendTarget | undefined {
    return this.targets.get(normalizeAddress(address));
  }

  receiveSource(address: string): MessageQueue | undefined {
    return this.receivables.get(normalizeAddress(address));
  }

  allQueues(): MessageQueue[] {
    return [...new Set(this.receivables.values())];
  }

  close(): void {
    for (const q of this.allQueues()) q.close();
  }
}

/** `amqps://host/Topic/subscriptions/Sub` → `topic/subscriptions/sub`. */
export function normalizeAddress(address: string): string {
  return address
    .replace(/^[a-z]+:\/\/[^/]+/i, "")
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}
