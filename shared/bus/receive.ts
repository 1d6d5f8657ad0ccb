// A Service Bus trigger with the Functions host's semantics, for the local runner: peek-lock,
// complete when the handler resolves, abandon when it throws (so the delivery count rises and
// Service Bus dead-letters the message after MaxDeliveryCount), lock renewal while it runs.
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { ensureError } from "../errors.js";
import { FAST_FAIL_RETRY } from "./publisher.js";

export interface SubscribeHandlerOptions {
  /** An existing client (not closed by stop()) or a connection string (client closed by stop()). */
  client?: ServiceBusClient;
  connectionString?: string;
  topic: string;
  subscription: string;
  handler: (message: ServiceBusReceivedMessage) => Promise<void>;
  /** Host default for Service Bus triggers is 16 per instance. */
  maxConcurrentCalls?: number;
  /** Host default: 5 minutes. */
  maxAutoLockRenewalDurationMs?: number;
  /** Receive or settlement trouble (the client keeps retrying); handler errors are not reported here. */
  onError?: (error: Error) => void;
}

export interface HandlerSubscription {
  /** Stops taking messages and waits for the handlers in flight to finish and settle. */
  stop(): Promise<void>;
}

export function subscribeHandler(options: SubscribeHandlerOptions): HandlerSubscription {
  if (!options.client && !options.connectionString) throw new Error("subscribeHandler needs a client or a connectionString");
  const ownsClient = !options.client;
  const client = options.client ?? new ServiceBusClient(options.connectionString!, { retryOptions: FAST_FAIL_RETRY });
  const receiver = client.createReceiver(options.topic, options.subscription, {
    receiveMode: "peekLock",
    maxAutoLockRenewalDurationInMs: options.maxAutoLockRenewalDurationMs ?? 5 * 60_000,
  });
  const inFlight = new Set<Promise<void>>();
  const report = (e: unknown) => options.onError?.(ensureError(e));

  // rhea 3.0.5 (under @azure/service-bus) merges dispositions of consecutive deliveries written
  // in the same tick into one range with the first one's outcome, so a complete next to an
  // abandon could abandon both. Start each settlement in its own macrotask.
  let gate: Promise<void> = Promise.resolve();
  const settleAlone = (fn: () => Promise<void>): Promise<void> => {
    const run = gate.then(fn);
    gate = gate.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    return run;
  };

  const process = async (message: ServiceBusReceivedMessage): Promise<void> => {
    let ok = false;
    try {
      await options.handler(message);
      ok = true;
    } catch {
      // The handler's failure is the message's problem: abandon, as the host does.
    }
    try {
      await settleAlone(() => (ok ? receiver.completeMessage(message) : receiver.abandonMessage(message)));
    } catch (e) {
      // Lock lost or bus away: the message comes back after its lock expires.
      report(e);
    }
  };

  const subscription = receiver.subscribe(
    {
      processMessage: (message) => {
        const p = process(message).finally(() => inFlight.delete(p));
        inFlight.add(p);
        return p;
      },
      processError: async (args) => report(args.error),
    },
    { autoCompleteMessages: false, maxConcurrentCalls: options.maxConcurrentCalls ?? 16 },
  );

  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        await subscription.close();
        // Settlement after the link closed goes through $management by lock token.
        await Promise.allSettled([...inFlight]);
        await receiver.close();
        if (ownsClient) await client.close();
      })()),
  };
}
