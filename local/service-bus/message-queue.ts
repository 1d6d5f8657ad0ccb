// The state of one receivable entity (a queue, a subscription or a dead-letter sub-queue) with
// Service Bus peek-lock semantics: locks that expire, delivery counts, dead-lettering after
// MaxDeliveryCount, deferral. No AMQP here: consumers are anything that can take a message.
import type { Message } from "rhea";
import { generate_uuid } from "./rhea.js";

export interface StoredMessage {
  /** Per-entity sequence number, from 1 (the client peeks from 1). */
  seq: number;
  message: Message;
  enqueuedAt: number;
  /** Failed delivery attempts so far: AMQP header `delivery-count`, which the client reports as `deliveryCount` (0 on the first delivery). */
  deliveryCount: number;
  state: "active" | "locked" | "deferred";
  lockToken?: string;
  lockedUntil?: number;
  lockTimer?: NodeJS.Timeout;
}

export interface Consumer {
  receiveAndDelete: boolean;
  /** How many more messages this consumer can take right now. */
  credit(): number;
  deliver(m: StoredMessage): void;
}

export interface QueueSettings {
  maxDeliveryCount: number;
  lockDurationMs: number;
}

export type SettleOutcome =
  | { kind: "complete" }
  | { kind: "abandon"; propertiesToModify?: Record<string, unknown> }
  | { kind: "defer"; propertiesToModify?: Record<string, unknown> }
  | { kind: "deadLetter"; reason?: string; description?: string; propertiesToModify?: Record<string, unknown> };

export type SettleResult = "ok" | "lock-lost";

export const MAX_DELIVERY_COUNT_EXCEEDED = "MaxDeliveryCountExceeded";

export class MessageQueue {
  private readonly messages = new Map<number, StoredMessage>();
  /** Active messages ready for delivery, in delivery order. */
  private readonly ready = new Set<number>();
  private readonly locks = new Map<string, StoredMessage>();
  private readonly consumers: Consumer[] = [];
  private nextSeq = 1;
  private rr = 0;
  private closed = false;
  readonly counters = { enqueued: 0, delivered: 0, completed: 0, abandoned: 0, lockExpired: 0, deadLettered: 0 };

  constructor(
    readonly path: string,
    readonly settings: QueueSettings,
    /** The `$DeadLetterQueue` sub-queue; undefined for a dead-letter queue itself. */
    readonly deadLetter: MessageQueue | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  enqueue(message: Message, deliveryCount = 0): StoredMessage {
    const m: StoredMessage = { seq: this.nextSeq++, message, enqueuedAt: this.now(), deliveryCount, state: "active" };
    this.messages.set(m.seq, m);
    this.ready.add(m.seq);
    this.counters.enqueued++;
    this.pump();
    return m;
  }

  addConsumer(c: Consumer): void {
    this.consumers.push(c);
    this.pump();
  }

  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
  }

  /** Hands ready messages to consumers with credit, round-robin. */
  pump(): void {
    if (this.closed) return;
    while (this.ready.size > 0) {
      const consumer = this.nextConsumerWithCredit();
      if (!consumer) return;
      const seq = this.ready.values().next().value as number;
      this.ready.delete(seq);
      const m = this.messages.get(seq)!;
      if (consumer.receiveAndDelete) {
        this.messages.delete(seq);
      } else {
        this.lock(m);
      }
      this.counters.delivered++;
      consumer.deliver(m);
    }
  }

  private nextConsumerWithCredit(): Consumer | undefined {
    for (let k = 0; k < this.consumers.length; k++) {
      const c = this.consumers[(this.rr + k) % this.consumers.length];
      if (c.credit() > 0) {
        this.rr = (this.rr + k + 1) % this.consumers.length;
        return c;
      }
    }
    return undefined;
  }

  private lock(m: StoredMessage): void {
    m.state = "locked";
    m.lockToken = generate_uuid();
    this.locks.set(m.lockToken, m);
    this.armLock(m);
  }

  private armLock(m: StoredMessage): void {
    if (m.lockTimer) clearTimeout(m.lockTimer);
    m.lockedUntil = this.now() + this.settings.lockDurationMs;
    m.lockTimer = setTimeout(() => this.onLockExpired(m), this.settings.lockDurationMs);
    m.lockTimer.unref();
  }

  private unlock(m: StoredMessage): void {
    if (m.lockTimer) clearTimeout(m.lockTimer);
    if (m.lockToken) this.locks.delete(m.lockToken);
    m.lockTimer = undefined;
    m.lockToken = undefined;
    m.lockedUntil = undefined;
  }

  private onLockExpired(m: StoredMessage): void {
    if (m.state !== "locked") return;
    this.counters.lockExpired++;
    this.unlock(m);
    this.failedAttempt(m, undefined);
  }

  /** An abandon or an expired lock: the message comes back, or goes to the DLQ once it used up its deliveries. */
  private failedAttempt(m: StoredMessage, propertiesToModify: Record<string, unknown> | undefined): void {
    m.deliveryCount++;
    if (propertiesToModify) m.message = withApplicationProperties(m.message, propertiesToModify);
    if (this.deadLetter && m.deliveryCount >= this.settings.maxDeliveryCount) {
      this.moveToDeadLetter(m, MAX_DELIVERY_COUNT_EXCEEDED, `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`);
      return;
    }
    m.state = "active";
    this.ready.add(m.seq);
    this.pump();
  }

  private moveToDeadLetter(m: StoredMessage, reason: string | undefined, description: string | undefined, props?: Record<string, unknown>): void {
    this.messages.delete(m.seq);
    this.ready.delete(m.seq);
    this.counters.deadLettered++;
    const extra: Record<string, unknown> = { ...props };
    if (reason !== undefined) extra.DeadLetterReason = reason;
    if (description !== undefined) extra.DeadLetterErrorDescription = description;
    const moved = withApplicationProperties(m.message, extra);
    moved.message_annotations = { ...moved.message_annotations, "x-opt-deadletter-source": this.path };
    this.deadLetter?.enqueue(moved, m.deliveryCount);
  }

  /** Settles a locked (or deferred-and-received) message by its lock token. */
  settle(lockToken: string, outcome: SettleOutcome): SettleResult {
    const m = this.locks.get(lockToken);
    if (!m || m.state !== "locked") return "lock-lost";
    this.unlock(m);
    switch (outcome.kind) {
      case "complete":
        this.messages.delete(m.seq);
        this.counters.completed++;
        break;
      case "abandon":
        this.counters.abandoned++;
        this.failedAttempt(m, outcome.propertiesToModify);
        break;
      case "defer":
        m.state = "deferred";
        if (outcome.propertiesToModify) m.message = withApplicationProperties(m.message, outcome.propertiesToModify);
        break;
      case "deadLetter":
        if (this.deadLetter) this.moveToDeadLetter(m, outcome.reason, outcome.description, outcome.propertiesToModify);
        else this.messages.delete(m.seq); // dead-lettering from a DLQ removes it, as Service Bus does
        break;
    }
    return "ok";
  }

  renewLock(lockToken: string): number | undefined {
    const m = this.locks.get(lockToken);
    if (!m || m.state !== "locked") return undefined;
    this.armLock(m);
    return m.lockedUntil;
  }

  /** Messages with seq ≥ from, in order, without locking them (deferred ones included, as Service Bus does). */
  peek(fromSeq: number, count: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const m of this.messages.values()) {
      if (m.seq >= fromSeq) out.push(m);
      if (out.length >= count) break;
    }
    return out;
  }

  /** Receives deferred messages by sequence number: locks them (peek-lock) or removes them (receive-and-delete). */
  receiveDeferred(seqs: number[], receiveAndDelete: boolean): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const seq of seqs) {
      const m = this.messages.get(seq);
      if (!m || m.state !== "deferred") continue;
      if (receiveAndDelete) this.messages.delete(seq);
      else this.lock(m);
      out.push(m);
    }
    return out;
  }

  count(): { active: number; locked: number; deferred: number } {
    let locked = 0;
    let deferred = 0;
    for (const m of this.messages.values()) {
      if (m.state === "locked") locked++;
      else if (m.state === "deferred") deferred++;
    }
    return { active: this.messages.size - locked - deferred, locked, deferred };
  }

  /** Stops lock timers for good (the broker is being disposed). */
  close(): void {
    this.closed = true;
    for (const m of this.messages.values()) if (m.lockTimer) clearTimeout(m.lockTimer);
  }
}

function withApplicationProperties(message: Message, props: Record<string, unknown>): Message {
  return { ...message, application_properties: { ...message.application_properties, ...props } };
}
