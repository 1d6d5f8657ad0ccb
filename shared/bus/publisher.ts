// Publishes outbox rows to the escalation topic. A publish never throws and never hangs for
// minutes: when Service Bus is away, every item comes back in `failed` within the publish
// deadline and stays in the outbox for the next attempt (the topic's duplicate detection makes
// the retry safe).
import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from "@azure/service-bus";
import type { TokenCredential } from "@azure/identity";
import { ensureError } from "../errors.js";
import type { OutboxItem } from "../store/types.js";
import { toServiceBusMessage } from "./cloud-event.js";

export interface PublishResult {
  sent: string[];
  failed: { messageId: string; error: string }[];
}

export interface EscalationPublisher {
  publish(items: OutboxItem[]): Promise<PublishResult>;
  close(): Promise<void>;
}

/** How to reach the namespace: a connection string locally, identity in Azure. */
export type ServiceBusConnection =
  | { connectionString: string }
  | { fullyQualifiedNamespace: string; credential: TokenCredential };

export interface ServiceBusPublisherOptions {
  topic: string;
  /** Upper bound on one publish() call, connection included. Default 10 s. */
  publishTimeoutMs?: number;
}

/** Reads the same settings the Functions host's ServiceBusConnection binding reads. */
export async function serviceBusConnectionFromSettings(settings: {
  ServiceBusConnection?: string;
  ServiceBusConnection__fullyQualifiedNamespace?: string;
  ServiceBusConnection__clientId?: string;
  AZURE_CLIENT_ID?: string;
}): Promise<ServiceBusConnection> {
  if (settings.ServiceBusConnection) return { connectionString: settings.ServiceBusConnection };
  const namespace = settings.ServiceBusConnection__fullyQualifiedNamespace;
  if (!namespace) throw new Error("ServiceBusConnection__fullyQualifiedNamespace is not set");
  // Loaded only in Azure: the local stack never needs @azure/identity's credential chain.
  const { DefaultAzureCredential } = await import("@azure/identity");
  const clientId = settings.ServiceBusConnection__clientId ?? settings.AZURE_CLIENT_ID;
  return { fullyQualifiedNamespace: namespace, credential: new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}) };
}

/** Short retries: the outbox is the retry loop, so the client must give up fast and say so. */
export const FAST_FAIL_RETRY = { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 1000, timeoutInMs: 5000 };

export function createServiceBusClient(connection: ServiceBusConnection): ServiceBusClient {
  const options = { retryOptions: FAST_FAIL_RETRY };
  return "connectionString" in connection
    ? new ServiceBusClient(connection.connectionString, options)
    : new ServiceBusClient(connection.fullyQualifiedNamespace, connection.credential, options);
}

export class ServiceBusEscalationPublisher implements EscalationPublisher {
  private readonly client: ServiceBusClient;
  private sender: ServiceBusSender | undefined;
  private readonly timeoutMs: number;
  private readonly topic: string;

  constructor(connection: ServiceBusConnection | ServiceBusClient, options: ServiceBusPublisherOptions) {
    this.client = connection instanceof ServiceBusClient ? connection : createServiceBusClient(connection);
    this.topic = options.topic;
    this.timeoutMs = options.publishTimeoutMs ?? 10_000;
  }

  async publish(items: OutboxItem[]): Promise<PublishResult> {
    const result: PublishResult = { sent: [], failed: [] };
    if (items.length === 0) return result;
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const pending = items.map((item) => ({ id: item.messageId, message: toServiceBusMessage(item) }));
    let inBatch: string[] = [];
    try {
      const sender = this.currentSender();
      while (pending.length > 0) {
        inBatch = [];
        const batch = await sender.createMessageBatch({ abortSignal: deadline });
        while (pending.length > 0 && batch.tryAddMessage(pending[0].message)) inBatch.push(pending.shift()!.id);
        if (inBatch.length === 0) {
          // Alone it does not fit (256 KB per Standard message): retrying will not help.
          const tooLarge = pending.shift()!;
          result.failed.push({ messageId: tooLarge.id, error: `MessageSizeExceeded: larger than ${batch.maxSizeInBytes} bytes` });
          continue;
        }
        await sender.sendMessages(batch, { abortSignal: deadline });
        result.sent.push(...inBatch);
        inBatch = [];
      }
    } catch (e) {
      const error = deadline.aborted ? `ServiceTimeout: no answer from Service Bus within ${this.timeoutMs} ms` : describe(e);
      // Whatever was not confirmed is reported failed; the next publish starts on a fresh sender.
      for (const messageId of [...inBatch, ...pending.map((p) => p.id)]) result.failed.push({ messageId, error });
      this.dropSender();
    }
    return result;
  }

  private currentSender(): ServiceBusSender {
    if (!this.sender || this.sender.isClosed) this.sender = this.client.createSender(this.topic);
    return this.sender;
  }

  private dropSender(): void {
    const old = this.sender;
    this.sender = undefined;
    old?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const s = this.sender;
    this.sender = undefined;
    await s?.close().catch(() => undefined);
    await this.client.close();
  }
}

function describe(e: unknown): string {
  const err = ensureError(e);
  const code = (err as { code?: unknown }).code;
  return `${typeof code === "string" ? code : err.name}: ${err.message}`.slice(0, 500);
}

export type { ServiceBusMessage };
