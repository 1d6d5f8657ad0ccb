// How stored messages look on the wire to the @azure/service-bus client, and the reverse for
// what it sends (batches, message ids, lock tokens).
import type { Message } from "rhea";
import { generate_uuid, message as amqpMessage, string_to_uuid, types } from "./rhea.js";
import type { StoredMessage } from "./message-queue.js";

/** Message format of a batch: an envelope whose data sections each hold one encoded message. */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** Standard tier limit: 256 KB per message (and per batch). */
export const STANDARD_MAX_MESSAGE_SIZE = 256 * 1024;

/** The message as a receiver sees it: broker annotations and the delivery count header added. */
export function toWire(m: StoredMessage): Message {
  const annotations: Record<string, unknown> = {
    ...m.message.message_annotations,
    "x-opt-sequence-number": types.wrap_long(m.seq),
    "x-opt-enqueued-time": new Date(m.enqueuedAt),
  };
  if (m.lockedUntil !== undefined) annotations["x-opt-locked-until"] = new Date(m.lockedUntil);
  return { ...m.message, delivery_count: m.deliveryCount, message_annotations: annotations };
}

/**
 * The client turns a link delivery tag into the lock token with .NET GUID byte order
 * (first three groups reversed) and sends lock tokens to $management in RFC order, so the tag
 * is the token's RFC bytes with the same groups reversed.
 */
export function lockTokenToTag(lockToken: string): Buffer {
  return reorderGuidBytes(string_to_uuid(lockToken));
}

export function reorderGuidBytes(b: Buffer): Buffer {
  return Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8, 16)]);
}

/** Unpacks what arrived on a sending link: one message, or a batch of them. */
export function unpackTransfer(payload: Message | Buffer, format: number | undefined): Message[] {
  if (format === BATCH_MESSAGE_FORMAT && Buffer.isBuffer(payload)) {
    const envelope = amqpMessage.decode(payload);
    const body = envelope.body as { content?: Buffer | Buffer[]; multiple?: boolean } | undefined;
    const parts = body?.content === undefined ? [] : Array.isArray(body.content) && body.multiple ? body.content : [body.content as Buffer];
    return parts.map((p) => ensureMessageId(decode(p)));
  }
  if (Buffer.isBuffer(payload)) return [ensureMessageId(decode(payload))];
  return [ensureMessageId(payload)];
}

const decode = (b: Buffer): Message => amqpMessage.decode(b) as unknown as Message;

/** Service Bus assigns a message_id when the sender gave none; the client's lock renewal needs one. */
function ensureMessageId(m: Message): Message {
  if (m.message_id === undefined || m.message_id === null) m.message_id = generate_uuid();
  return m;
}

/** Reads a sequence number the client sent as an AMQP long (a number, or 8 bytes when large). */
export function readLong(v: unknown): number {
  if (typeof v === "number") return v;
  if (Buffer.isBuffer(v) && v.length === 8) return Number(v.readBigInt64BE(0));
  if (typeof v === "bigint") return Number(v);
  throw new Error(`expected a long, got ${typeof v}`);
}
