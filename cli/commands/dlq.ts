import type { Command } from "commander";
import type { ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";
import { createServiceBusClient, serviceBusConnectionFromSettings } from "../../shared/bus/publisher.js";
import { ensureError } from "../../shared/errors.js";
import { sanitize } from "../../shared/sanitize/index.js";
import { CliError, action } from "./runs.js";

// `run-monitor dlq list | replay`: what the open-ticket handler dead-lettered (a sink rejected the
// ticket, a message that is not an escalation, or MaxDeliveryCountExceeded after retries), and
// re-driving it once the cause is fixed.
//
// Replay re-sends each message to the topic under a NEW messageId `${original}:replay:${n}`: the
// topic's duplicate detection (10 minutes) would silently drop the original ID. The handler keys
// its ledger by the CloudEvent id in the body, which replay keeps, so a message that was in fact
// applied before changes nothing. `replayTo` names the subscription the copy is meant for; other
// subscriptions should filter `replayTo IS NULL` so a replay does not re-alert them. The dead-
// lettered copy is completed only after the re-send succeeded: a crash in between re-sends the
// same `${original}:replay:${n}` next time, which duplicate detection and the ledger both absorb.

export interface DeadLetteredTicket {
  sequenceNumber: string;
  messageId: string;
  /** CloudEvent id (= the outbox messageId): the handler's idempotency key. */
  eventId?: string;
  runId?: string;
  reason?: string;
  kind?: string;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  deliveryCount?: number;
  enqueuedTime?: string;
  /** Set on a message that is itself a replay: the first messageId it descends from. */
  replayOf?: string;
}

export interface DlqTarget {
  client: ServiceBusClient;
  topic: string;
  subscription: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined);

function bodyEventId(body: unknown): string | undefined {
  let value = body;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    try {
      value = JSON.parse(body.toString()) as unknown;
    } catch {
      return undefined;
    }
  }
  return value && typeof value === "object" ? str((value as { id?: unknown }).id) : undefined;
}

export function describeDeadLetter(m: ServiceBusReceivedMessage): DeadLetteredTicket {
  const p = m.applicationProperties ?? {};
  return {
    sequenceNumber: m.sequenceNumber?.toString() ?? "",
    messageId: String(m.messageId ?? ""),
    eventId: bodyEventId(m.body),
    runId: str(p.runId),
    reason: str(p.reason),
    kind: str(p.kind),
    deadLetterReason: m.deadLetterReason ?? str(p.DeadLetterReason),
    // Descriptions come from sink errors, already sanitized; sanitize again since they leave the process here.
    deadLetterErrorDescription: ((d) => (d === undefined ? undefined : sanitize(d)))(m.deadLetterErrorDescription ?? str(p.DeadLetterErrorDescription)),
    deliveryCount: m.deliveryCount,
    enqueuedTime: m.enqueuedTimeUtc?.toISOString(),
    replayOf: str(p.replayOf),
  };
}

/** Peeks (does not lock or remove) up to `max` dead-lettered messages, oldest first. */
export async function listDeadLetters(target: DlqTarget, max: number): Promise<DeadLetteredTicket[]> {
  const receiver = target.client.createReceiver(target.topic, target.subscription, { subQueueType: "deadLetter" });
  try {
    const out: DeadLetteredTicket[] = [];
    while (out.length < max) {
      // The receiver remembers where the last peek ended.
      const page = await receiver.peekMessages(Math.min(100, max - out.length));
      if (page.length === 0) break;
      out.push(...page.map(describeDeadLetter));
    }
    return out;
  } finally {
    await receiver.close();
  }
}

/** The copy replay sends: same body and properties, a fresh messageId, the lineage kept. */
export function replayCopy(m: ServiceBusReceivedMessage, subscription: string): ServiceBusMessage {
  const props: Record<string, string | number | boolean | Date | null> = { ...(m.applicationProperties ?? {}) } as Record<string, string | number | boolean | Date | null>;
  delete props.DeadLetterReason;
  delete props.DeadLetterErrorDescription;
  const original = str(props.replayOf) ?? String(m.messageId ?? "");
  const n = (typeof props.replayCount === "number" ? props.replayCount : 0) + 1;
  return {
    messageId: `${original}:replay:${n}`,
    body: m.body,
    contentType: m.contentType,
    subject: m.subject,
    correlationId: m.correlationId,
    applicationProperties: { ...props, replayOf: original, replayCount: n, replayTo: subscription },
  };
}

export interface ReplayResult {
  replayed: { from: string; as: string; eventId?: string }[];
  failed?: { messageId: string; error: string };
}

/** Re-sends up to `max` dead-lettered messages; stops at the first send that fails (that message stays in the DLQ). */
export async function replayDeadLetters(target: DlqTarget, max: number): Promise<ReplayResult> {
  const receiver = target.client.createReceiver(target.topic, target.subscription, { subQueueType: "deadLetter", receiveMode: "peekLock" });
  const sender = target.client.createSender(target.topic);
  const result: ReplayResult = { replayed: [] };
  try {
    while (result.replayed.length < max) {
      const batch = await receiver.receiveMessages(Math.min(50, max - result.replayed.length), { maxWaitTimeInMs: 1500 });
      if (batch.length === 0) break;
      for (const [i, m] of batch.entries()) {
        const copy = replayCopy(m, target.subscription);
        try {
          await sender.sendMessages(copy);
        } catch (e) {
          result.failed = { messageId: String(m.messageId), error: sanitize(ensureError(e).message) };
          // Give back this one and the rest of the batch: they stay dead-lettered for the next replay.
          for (const rest of batch.slice(i)) await receiver.abandonMessage(rest).catch(() => undefined);
          return result;
        }
        await receiver.completeMessage(m);
        result.replayed.push({ from: String(m.messageId), as: String(copy.messageId), eventId: bodyEventId(m.body) });
      }
    }
    return result;
  } finally {
    await sender.close();
    await receiver.close();
  }
}

interface DlqOptions {
  subscription: string;
  topic?: string;
  max: string;
  json?: boolean;
}

function parseMax(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CliError(`--max: expected an integer between 1 and 10000, got ${JSON.stringify(raw)}`, 2);
  return n;
}

async function withTarget<T>(opts: DlqOptions, fn: (target: DlqTarget) => Promise<T>, env: Record<string, string | undefined> = process.env): Promise<T> {
  if (!/^[A-Za-z0-9][\w.-]{0,49}$/.test(opts.subscription)) throw new CliError(`--subscription: expected a Service Bus subscription name, got ${JSON.stringify(opts.subscription)}`, 2);
  if (!env.ServiceBusConnection && !env.ServiceBusConnection__fullyQualifiedNamespace) {
    throw new CliError("set ServiceBusConnection (a connection string, local) or ServiceBusConnection__fullyQualifiedNamespace (identity, Azure)", 2);
  }
  const client = createServiceBusClient(await serviceBusConnectionFromSettings(env));
  const topic = opts.topic ?? env.ESCALATION_TOPIC ?? "run-escalations";
  try {
    return await fn({ client, topic, subscription: opts.subscription });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`Service Bus ${topic}/${opts.subscription}: ${sanitize(ensureError(e).message)}`, 1);
  } finally {
    await client.close();
  }
}

function printList(rows: DeadLetteredTicket[]): void {
  if (rows.length === 0) {
    process.stdout.write("no dead-lettered messages\n");
    return;
  }
  for (const r of rows) {
    const why = [r.deadLetterReason ?? "?", r.deadLetterErrorDescription].filter(Boolean).join(": ");
    process.stdout.write(`${r.sequenceNumber}\t${r.enqueuedTime ?? ""}\t${r.messageId}\tdeliveries=${r.deliveryCount ?? "?"}\t${why}\n`);
  }
}

export function registerDlq(program: Command): void {
  const dlq = program.command("dlq").description("show and replay escalation messages the ticket handler dead-lettered");
  const common = (cmd: Command) =>
    cmd
      .option("--subscription <name>", "subscription whose dead-letter queue to read", process.env.TICKETS_SUBSCRIPTION ?? "tickets")
      .option("--topic <name>", "escalation topic (env ESCALATION_TOPIC, default run-escalations)")
      .option("--max <n>", "at most this many messages", "100")
      .option("--json", "JSON output");

  common(dlq.command("list").description("list dead-lettered messages (peek: nothing is removed)")).action(
    action(async (opts: DlqOptions) => {
      const max = parseMax(opts.max);
      const rows = await withTarget(opts, (t) => listDeadLetters(t, max));
      if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      else printList(rows);
    }),
  );

  common(dlq.command("replay").description("re-send dead-lettered messages to the topic, then remove them from the dead-letter queue")).action(
    action(async (opts: DlqOptions) => {
      const max = parseMax(opts.max);
      const result = await withTarget(opts, (t) => replayDeadLetters(t, max));
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else {
        for (const r of result.replayed) process.stdout.write(`replayed ${r.from} as ${r.as}\n`);
        process.stdout.write(`${result.replayed.length} replayed\n`);
      }
      if (result.failed) throw new CliError(`replay of ${result.failed.messageId} failed (it stays dead-lettered): ${result.failed.error}`, 1);
    }),
  );
}
