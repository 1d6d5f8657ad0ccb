// A Service Bus trigger with the Functions host's semantics, for the local runner: peek-lock,
// complete when the handler resolves, abandon when it throws (so the delivery count rises and
// Service Bus dead-letters the message after MaxDeliveryCount), lock renewal while it runs.
// Two refinements a handler can ask for by what it throws (duck-typed, so shared/ cores need not
// import this module):
// - `{ deadLetterReason: string, deadLetterDescription?: string }` → dead-letter at once with that
//   reason (a permanent failure should not burn the remaining deliveries);
// - `{ retryAfterMs: number }` → hold the message (its lock keeps being renewed) that long, then
//   abandon: Service Bus has no per-message redelivery delay, so this is the backoff.
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
  /** Upper bound on a `retryAfterMs` hold; default 60 s (well inside the auto-renewal window). */
  maxRetryHoldMs?: number;
  /** Sees each handler failure and how it was settled (for logs and tests). */
  onHandlerError?: (error: Error, message: ServiceBusReceivedMessage, settlement: "abandon" | "deadLetter") => void;
}

/** What a handler's throw asks for: dead-letter now with a reason, or abandon after a hold (0 = at once). */
export type FailureSettlement = { kind: "deadLetter"; reason: string; description: string } | { kind: "abandon"; holdMs: number };

export function failureSettlement(e: unknown, maxHoldMs = 60_000): FailureSettlement {
  const f = (typeof e === "object" && e !== null ? e : {}) as { deadLetterReason?: unknown; deadLetterDescription?: unknown; retryAfterMs?: unknown; message?: unknown };
  if (typeof f.deadLetterReason === "string" && f.deadLetterReason) {
    return { kind: "deadLetter", reason: f.deadLetterReason, description: String(f.deadLetterDescription ?? f.message ?? "") };
  }
  const hold = typeof f.retryAfterMs === "number" && Number.isFinite(f.retryAfterMs) ? Math.min(Math.max(f.retryAfterMs, 0), maxHoldMs) : 0;
  return { kind: "abandon", holdMs: hold };
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
  // stop() cuts backoff holds short: the message is abandoned at once and comes back to whoever runs next.
  const stopping = new AbortController();
  const hold = (ms: number): Promise<void> =>
    ms <= 0 || stopping.signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(done, ms);
          function done() {
            clearTimeout(timer);
            stopping.signal.removeEventListener("abort", done);
            resolve();
          }
          stopping.signal.addEventListener("abort", done);
        });

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
    let failure: FailureSettlement | undefined;
    try {
      await options.handler(message);
    } catch (e) {
      // The handler's failure is the message's problem: abandon, as the host does — or what it asked for.
      failure = failureSettlement(e, options.maxRetryHoldMs);
      options.onHandlerError?.(ensureError(e), message, failure.kind);
      if (failure.kind === "abandon") await hold(failure.holdMs);
    }
    try {
      await settleAlone(() =>
        !failure
          ? receiver.completeMessage(message)
          : failure.kind === "deadLetter"
            ? receiver.deadLetterMessage(message, { deadLetterReason: failure.reason, deadLetterErrorDescription: failure.description })
            : receiver.abandonMessage(message),
      );
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
        stopping.abort();
        await subscription.close();
        // Settlement after the link closed goes through $management by lock token.
        await Promise.allSettled([...inFlight]);
        await receiver.close();
        if (ownsClient) await client.close();
      })()),
  };
}
