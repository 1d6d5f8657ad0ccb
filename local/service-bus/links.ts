// AMQP link handling: what each attach means ($cbs, $management, an entity to send to, an
// entity to receive from), deliveries with lock-token tags and credit, dispositions → settlement.
import type { Connection, Container, Delivery, EventContext, Message, Receiver, Sender, Source, TerminusOptions } from "rhea";
import { message as amqpMessage } from "./rhea.js";
import type { Namespace } from "./entities.js";
import { handleManagementRequest, type ManagementResponse } from "./management.js";
import type { Consumer, MessageQueue, SettleOutcome, StoredMessage } from "./message-queue.js";
import { lockTokenToTag, toWire, unpackTransfer } from "./wire.js";

const MANAGEMENT_SUFFIX = "/$management";

/** Parts of rhea links its typings leave out. */
interface LinkInternals {
  credit: number;
  remote: { attach?: { source?: Terminus; target?: Terminus; snd_settle_mode?: number; rcv_settle_mode?: number } };
  local: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number; max_message_size?: number } };
}
type Terminus = Source & TerminusOptions;
const internals = (link: Sender | Receiver): LinkInternals => link as unknown as LinkInternals;

/** Outcome constructors rhea has but does not type. */
const outcomes = amqpMessage as unknown as {
  accepted(): { described(): unknown };
  rejected(fields: { error: { condition: string; description: string } }): { described(): unknown };
};

type IncomingHandler = (message: Message | Buffer, format: number | undefined) => void;

interface LinkState {
  incoming: WeakMap<Receiver, IncomingHandler>;
  /** Reply links of request/response pairs, by link name and by target address. */
  replies: WeakMap<Connection, Map<string, Sender>>;
  consumers: WeakMap<Connection, Set<{ queue: MessageQueue; consumer: Consumer }>>;
  settlements: WeakMap<Delivery, { queue: MessageQueue; lockToken: string }>;
}

/** Wires the broker's behaviour onto a rhea container that listens for clients. */
export function attachBrokerHandlers(container: Container, ns: Namespace, maxMessageSize: number, managementCalls: Record<string, number>): void {
  const state: LinkState = { incoming: new WeakMap(), replies: new WeakMap(), consumers: new WeakMap(), settlements: new WeakMap() };

  container.on("receiver_open", (ctx: EventContext) => onClientSender(ctx.receiver!, ns, state, maxMessageSize, managementCalls));
  container.on("sender_open", (ctx: EventContext) => onClientReceiver(ctx.sender!, ns, state));

  container.on("message", (ctx: EventContext) => {
    const handler = state.incoming.get(ctx.receiver!);
    const format = (ctx as EventContext & { format?: number }).format;
    handler?.(ctx.message as Message | Buffer, format);
  });

  const onDisposition = (ctx: EventContext) => settleFromLink(ctx, state);
  container.on("accepted", onDisposition);
  container.on("rejected", onDisposition);
  container.on("released", onDisposition);
  container.on("modified", onDisposition);

  container.on("sendable", (ctx: EventContext) => pumpFor(ctx.connection, ctx.sender, state));
  container.on("sender_draining", (ctx: EventContext) => {
    pumpFor(ctx.connection, ctx.sender, state);
    ctx.sender!.set_drained(true);
  });
  container.on("sender_close", (ctx: EventContext) => dropConsumers(ctx.connection, state, ctx.sender));
  container.on("disconnected", (ctx: EventContext) => dropConsumers(ctx.connection, state));
  container.on("connection_close", (ctx: EventContext) => dropConsumers(ctx.connection, state));
  // A client that goes away mid-frame is normal here; never let it crash the process.
  container.on("error", () => undefined);
  container.on("connection_error", () => undefined);
  container.on("sender_error", () => undefined);
  container.on("receiver_error", () => undefined);
  container.on("session_error", () => undefined);
}

/** The client attached a sender: we receive on $cbs, $management or an entity. */
function onClientSender(link: Receiver, ns: Namespace, state: LinkState, maxMessageSize: number, managementCalls: Record<string, number>): void {
  const { remote, local } = internals(link);
  const target = remote.attach?.target ?? ({} as Terminus);
  const address = target.address ?? "";
  link.set_target(target);
  link.set_source(remote.attach?.source ?? ({} as Terminus));
  // Without max_message_size the client builds batches with no size limit and they fail.
  local.attach.max_message_size = maxMessageSize;

  if (address === "$cbs") {
    state.incoming.set(link, (m) => reply(link.connection, state, m as Message, { status: 200, description: "OK" }));
  } else if (address.endsWith(MANAGEMENT_SUFFIX)) {
    const queue = ns.receiveSource(address.slice(0, -MANAGEMENT_SUFFIX.length));
    state.incoming.set(link, (m) => {
      const request = m as Message;
      const operation = String(request.application_properties?.operation ?? "?");
      managementCalls[operation] = (managementCalls[operation] ?? 0) + 1;
      reply(link.connection, state, request, handleManagementRequest(queue, request));
    });
  } else {
    const entity = ns.sendTarget(address);
    if (!entity) return notFound(link, address);
    state.incoming.set(link, (payload, format) => {
      for (const m of unpackTransfer(payload, format)) entity.accept(m);
    });
  }
}

/** The client attached a receiver: we send replies (request/response) or an entity's messages. */
function onClientReceiver(link: Sender, ns: Namespace, state: LinkState): void {
  const { remote: r, local: l } = internals(link);
  const remote = r.attach ?? {};
  const local = l.attach;
  const source = remote.source ?? ({} as Terminus);
  const target = remote.target ?? ({} as Terminus);
  link.set_source(source);
  link.set_target(target);
  // Echo the settle modes: receive-and-delete receivers ask for pre-settled deliveries.
  local.snd_settle_mode = remote.snd_settle_mode;
  local.rcv_settle_mode = remote.rcv_settle_mode;
  const address = source.address ?? "";

  if (address === "$cbs" || address.endsWith(MANAGEMENT_SUFFIX)) {
    const replies = state.replies.get(link.connection) ?? new Map<string, Sender>();
    state.replies.set(link.connection, replies);
    replies.set(link.name, link);
    if (target.address) replies.set(target.address, link);
    return;
  }
  const queue = ns.receiveSource(address);
  if (!queue) return notFound(link, address);
  const consumer = linkConsumer(link, remote.snd_settle_mode === 1, queue, state);
  const set = state.consumers.get(link.connection) ?? new Set();
  state.consumers.set(link.connection, set);
  set.add({ queue, consumer });
  queue.addConsumer(consumer);
}

function linkConsumer(link: Sender, receiveAndDelete: boolean, queue: MessageQueue, state: LinkState): Consumer & { link: Sender } {
  // rhea lowers link.credit only when it writes the transfer (next tick), so count what we
  // handed it since then; otherwise one pump would send far past the client's credit.
  let unwritten = 0;
  return {
    link,
    receiveAndDelete,
    credit: () => (link.is_open() && link.sendable() ? internals(link).credit - unwritten : 0),
    deliver: (m: StoredMessage) => {
      if (unwritten++ === 0) {
        setImmediate(() => {
          unwritten = 0;
          queue.pump();
        });
      }
      const delivery = link.send(toWire(m), m.lockToken ? lockTokenToTag(m.lockToken) : undefined);
      if (m.lockToken) state.settlements.set(delivery, { queue, lockToken: m.lockToken });
    },
  };
}

function pumpFor(connection: Connection, sender: Sender | undefined, state: LinkState): void {
  for (const { queue, consumer } of state.consumers.get(connection) ?? []) {
    if (!sender || (consumer as Consumer & { link?: Sender }).link === sender) queue.pump();
  }
}

function dropConsumers(connection: Connection, state: LinkState, sender?: Sender): void {
  const set = state.consumers.get(connection);
  if (!set) return;
  for (const entry of [...set]) {
    if (sender && (entry.consumer as Consumer & { link?: Sender }).link !== sender) continue;
    entry.queue.removeConsumer(entry.consumer);
    set.delete(entry);
  }
}

function outcomeOf(ctx: EventContext): SettleOutcome {
  const delivery = ctx.delivery!;
  const state = delivery.remote_state as
    | { constructor: { composite_type?: string }; error?: { condition?: string; info?: Record<string, unknown> }; undeliverable_here?: boolean; message_annotations?: Record<string, unknown> }
    | undefined;
  const kind = state?.constructor?.composite_type;
  if (kind === "accepted") return { kind: "complete" };
  if (kind === "rejected") {
    const info = { ...state?.error?.info };
    const reason = info.DeadLetterReason as string | undefined;
    const description = info.DeadLetterErrorDescription as string | undefined;
    delete info.DeadLetterReason;
    delete info.DeadLetterErrorDescription;
    return { kind: "deadLetter", reason, description, propertiesToModify: Object.keys(info).length ? info : undefined };
  }
  if (kind === "modified" && state?.undeliverable_here) return { kind: "defer", propertiesToModify: state.message_annotations };
  return { kind: "abandon", propertiesToModify: kind === "modified" ? state?.message_annotations : undefined };
}

function settleFromLink(ctx: EventContext, state: LinkState): void {
  const delivery = ctx.delivery;
  if (!delivery) return;
  const entry = state.settlements.get(delivery);
  if (!entry) return;
  state.settlements.delete(delivery);
  const result = entry.queue.settle(entry.lockToken, outcomeOf(ctx));
  // The client waits for the broker to settle its disposition; an error in the outcome becomes
  // the client's error (MessageLockLostError after the lock expired).
  if (result === "ok") {
    delivery.update(true, outcomes.accepted().described());
    return;
  }
  // rhea writes dispositions of consecutive deliveries settled in one tick as one range with the
  // first one's outcome; a lock-lost answer goes out on its own tick so it is not merged away.
  setImmediate(() =>
    delivery.update(
      true,
      outcomes.rejected({ error: { condition: "com.microsoft:message-lock-lost", description: "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue." } }).described(),
    ),
  );
}

function reply(connection: Connection, state: LinkState, request: Message, response: ManagementResponse): void {
  const replyTo = request.reply_to ?? "";
  const sender = state.replies.get(connection)?.get(replyTo);
  if (!sender) return;
  // $cbs answers with `status-code`, $management with `statusCode` (the client reads 204 from the latter).
  const properties: Record<string, unknown> = { "status-code": response.status, statusCode: response.status };
  if (response.description) properties["status-description"] = properties.statusDescription = response.description;
  if (response.condition) properties["error-condition"] = properties.errorCondition = response.condition;
  sender.send({ correlation_id: request.message_id, application_properties: properties, body: response.body ?? {} });
}

function notFound(link: Sender | Receiver, address: string): void {
  link.close({ condition: "amqp:not-found", description: `The messaging entity '${address}' could not be found.` });
}
