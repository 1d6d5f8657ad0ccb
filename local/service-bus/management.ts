// `$management` request/response operations the client uses: peek, renew-lock, settlement by
// lock token (after the receiving link is gone, or for deferred messages) and receiving deferred
// messages. Request in, response fields out; the link layer does the sending.
import type { Message } from "rhea";
import { message as amqpMessage, types, uuid_to_string } from "./rhea.js";
import type { MessageQueue, SettleOutcome } from "./message-queue.js";
import { readLong, toWire } from "./wire.js";

export interface ManagementResponse {
  status: number;
  description?: string;
  /** AMQP error condition the client turns into a typed error (e.g. MessageLockLost). */
  condition?: string;
  body?: Record<string, unknown>;
}

const LOCK_LOST = "com.microsoft:message-lock-lost";

export function handleManagementRequest(queue: MessageQueue | undefined, request: Message): ManagementResponse {
  const operation = String(request.application_properties?.operation ?? "");
  if (!queue) return { status: 404, condition: "amqp:not-found", description: "The messaging entity could not be found." };
  const body = (request.body ?? {}) as Record<string, unknown>;
  switch (operation) {
    case "com.microsoft:peek-message":
      return peek(queue, body);
    case "com.microsoft:renew-lock":
      return renewLock(queue, body);
    case "com.microsoft:update-disposition":
      return updateDisposition(queue, body);
    case "com.microsoft:receive-by-sequence-number":
      return receiveBySequenceNumber(queue, body);
    default:
      return { status: 501, condition: "amqp:not-implemented", description: `Operation ${operation} is not supported by the local broker.` };
  }
}

function lockTokens(body: Record<string, unknown>): string[] {
  const raw = body["lock-tokens"];
  const list = Array.isArray(raw) ? raw : [];
  return list.map((t) => (Buffer.isBuffer(t) ? uuid_to_string(t) : String(t)));
}

function peek(queue: MessageQueue, body: Record<string, unknown>): ManagementResponse {
  const from = readLong(body["from-sequence-number"] ?? 1);
  const count = Number(body["message-count"] ?? 1);
  const found = queue.peek(from, count);
  if (found.length === 0) return { status: 204, description: "No messages to peek." };
  return { status: 200, body: { messages: found.map((m) => ({ message: amqpMessage.encode(toWire(m)) })) } };
}

function renewLock(queue: MessageQueue, body: Record<string, unknown>): ManagementResponse {
  const expirations: Date[] = [];
  for (const token of lockTokens(body)) {
    const until = queue.renewLock(token);
    if (until === undefined) return lockLost();
    expirations.push(new Date(until));
  }
  return { status: 200, body: { expirations } };
}

function updateDisposition(queue: MessageQueue, body: Record<string, unknown>): ManagementResponse {
  const status = String(body["disposition-status"] ?? "");
  const props = body["properties-to-modify"] as Record<string, unknown> | undefined;
  let outcome: SettleOutcome;
  switch (status) {
    case "completed":
      outcome = { kind: "complete" };
      break;
    case "abandoned":
      outcome = { kind: "abandon", propertiesToModify: props };
      break;
    case "defered":
      outcome = { kind: "defer", propertiesToModify: props };
      break;
    case "suspended":
      outcome = {
        kind: "deadLetter",
        reason: body["deadletter-reason"] as string | undefined,
        description: body["deadletter-description"] as string | undefined,
        propertiesToModify: props,
      };
      break;
    default:
      return { status: 400, condition: "amqp:invalid-field", description: `Unknown disposition-status ${JSON.stringify(status)}.` };
  }
  for (const token of lockTokens(body)) {
    if (queue.settle(token, outcome) === "lock-lost") return lockLost();
  }
  return { status: 200 };
}

function receiveBySequenceNumber(queue: MessageQueue, body: Record<string, unknown>): ManagementResponse {
  const raw = body["sequence-numbers"];
  const seqs = (Array.isArray(raw) ? raw : []).map(readLong);
  const receiveAndDelete = Number(body["receiver-settle-mode"] ?? 1) === 0;
  const found = queue.receiveDeferred(seqs, receiveAndDelete);
  if (found.length === 0) return { status: 404, condition: "com.microsoft:message-not-found", description: "No deferred message with those sequence numbers." };
  return {
    status: 200,
    body: {
      messages: found.map((m) => ({
        // RFC byte order: the client reads this token without reordering (unlike link delivery tags).
        "lock-token": types.wrap_uuid(Buffer.from(m.lockToken?.replace(/-/g, "") ?? "00".repeat(16), "hex")),
        message: amqpMessage.encode(toWire(m)),
      })),
    },
  };
}

function lockLost(): ManagementResponse {
  return { status: 410, condition: LOCK_LOST, description: "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue." };
}
