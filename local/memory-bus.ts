import type { EscalationPublisher } from "../shared/bus/publisher.js";
import type { OutboxItem } from "../shared/store/types.js";

/**
 * The escalation topic for `simulate --stack memory`: duplicate detection on messageId (as the
 * real topic does within its window), one queue per subscription, and an off switch to play
 * "Service Bus is away".
 */
export class MemoryEscalationTopic implements EscalationPublisher {
  private readonly seen = new Set<string>();
  private readonly queues = new Map<string, OutboxItem[]>();
  available = true;
  /** Every send attempt that reached the topic, duplicates included (for tests). */
  readonly received: string[] = [];

  constructor(subscriptions: string[] = ["tickets"]) {
    for (const s of subscriptions) this.queues.set(s, []);
  }

  async publish(items: OutboxItem[]): Promise<{ sent: string[]; failed: { messageId: string; error: string }[] }> {
    if (!this.available) return { sent: [], failed: items.map((i) => ({ messageId: i.messageId, error: "ServiceCommunicationError: the topic is unreachable" })) };
    for (const item of items) {
      this.received.push(item.messageId);
      if (this.seen.has(item.messageId)) continue;
      this.seen.add(item.messageId);
      for (const q of this.queues.values()) q.push(item);
    }
    return { sent: items.map((i) => i.messageId), failed: [] };
  }

  /** Takes everything waiting on a subscription. */
  drain(subscription: string): OutboxItem[] {
    const q = this.queues.get(subscription);
    if (!q) throw new Error(`no subscription ${subscription}`);
    return q.splice(0, q.length);
  }

  get delivered(): number {
    return this.seen.size;
  }

  async close(): Promise<void> {}
}
