import { randomUUID } from "node:crypto";
import functions, { type FunctionOutput, type InvocationContext, type Timer } from "@azure/functions";
import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import { ensureError } from "../shared/errors.js";

// The Functions host cannot run here (its installer downloads a binary), so the local stack drives
// the same exported handlers with the host's semantics that we rely on: timers on a clock, queue
// triggers with dequeueCount, retries after the visibility timeout and a `-poison` queue after
// maxDequeueCount, and output bindings written to the real queues.

// @azure/functions is CommonJS and its classes are not visible as named ESM exports (a named
// import fails at load time): reach them through the default export.
const { InvocationContext: Context } = functions;

export type QueueHandler = (message: unknown, context: InvocationContext) => Promise<void>;
export type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<void>;

export interface HostOptions {
  /** Azurite (or storage) connection string. */
  connectionString: string;
  maxDequeueCount?: number;
  visibilityTimeoutSeconds?: number;
  /** Where handler logs go; default stderr. */
  log?: (line: string) => void;
}

interface OutputRoute {
  binding: FunctionOutput;
  queueName: string;
}

/** Queue messages are base64 JSON, as the host's queue extension writes and expects them. */
export const encodeQueueMessage = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64");
export function decodeQueueMessage(text: string): unknown {
  const raw = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, "base64").toString("utf8") : text;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * The period of a six-field NCRONTAB of the forms a monitor schedule takes: every N seconds
 * (`*\/N * * * * *`), minutes (`0 *\/N * * * *`) or hours (`0 0 *\/N * * *`). Undefined for
 * anything else: the caller chooses a period (the local host fires on an interval, not a calendar).
 */
export function everyMsOfSchedule(schedule: string): number | undefined {
  const f = schedule.trim().split(/\s+/);
  if (f.length !== 6) return undefined;
  const step = (field: string) => (/^\*\/([1-9]\d*)$/.exec(field) ? Number(field.slice(2)) : field === "*" ? 1 : undefined);
  const rest = (from: number) => f.slice(from).every((x) => x === "*");
  if (rest(1) && step(f[0])) return step(f[0])! * 1000;
  if (f[0] === "0" && rest(2) && step(f[1])) return step(f[1])! * 60_000;
  if (f[0] === "0" && f[1] === "0" && rest(3) && step(f[2])) return step(f[2])! * 3600_000;
  return undefined;
}

export class LocalFunctionsHost {
  private readonly queues: QueueServiceClient;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly log: (line: string) => void;
  private readonly maxDequeueCount: number;
  private readonly visibilityTimeout: number;

  constructor(private readonly options: HostOptions) {
    this.queues = QueueServiceClient.fromConnectionString(options.connectionString);
    this.log = options.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.maxDequeueCount = options.maxDequeueCount ?? 5;
    this.visibilityTimeout = options.visibilityTimeoutSeconds ?? 10;
  }

  queue(name: string): QueueClient {
    return this.queues.getQueueClient(name);
  }

  async ensureQueues(names: string[]): Promise<void> {
    for (const n of names) {
      await this.queue(n).createIfNotExists();
      await this.queue(`${n}-poison`).createIfNotExists();
    }
  }

  context(functionName: string, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
    return new Context({
      invocationId: randomUUID(),
      functionName,
      triggerMetadata,
      logHandler: (level, ...args) => this.log(`[${functionName}] ${level}: ${args.map(String).join(" ")}`),
    });
  }

  /** Runs a timer handler every `everyMs` (and once at start when `runOnStartup`), writing its queue outputs. */
  timer(functionName: string, everyMs: number, handler: TimerHandler, outputs: OutputRoute[] = [], runOnStartup = false): void {
    // invokeTimer never rejects (it logs), so fire-and-forget is safe here.
    const fire = (): void => void this.track(this.invokeTimer(functionName, handler, outputs));
    if (runOnStartup) fire();
    this.timers.push(setInterval(fire, everyMs));
  }

  async invokeTimer(functionName: string, handler: TimerHandler, outputs: OutputRoute[] = []): Promise<void> {
    const context = this.context(functionName);
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: new Date().toISOString(), next: "", lastUpdated: new Date().toISOString() } };
    try {
      await handler(timer, context);
      await this.writeOutputs(context, outputs);
    } catch (e) {
      this.log(`[${functionName}] error: ${ensureError(e).message}`);
    }
  }

  /** Polls a queue and runs the handler per message with the host's retry and poison semantics. */
  queueTrigger(functionName: string, queueName: string, handler: QueueHandler, outputs: OutputRoute[] = [], concurrency = 4): void {
    const loop = async () => {
      const q = this.queue(queueName);
      await q.createIfNotExists();
      while (!this.stopped) {
        let got = 0;
        try {
          const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: concurrency, visibilityTimeout: this.visibilityTimeout });
          got = receivedMessageItems.length;
          await Promise.all(receivedMessageItems.map((m) => this.track(this.runQueueMessage(functionName, queueName, m, handler, outputs))));
        } catch (e) {
          if (!this.stopped) this.log(`[${functionName}] queue read failed: ${ensureError(e).message}`);
        }
        if (got === 0 && !this.stopped) await new Promise((r) => setTimeout(r, 250));
      }
    };
    this.loops.push(loop());
  }

  private async runQueueMessage(
    functionName: string,
    queueName: string,
    m: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number },
    handler: QueueHandler,
    outputs: OutputRoute[],
  ): Promise<void> {
    const q = this.queue(queueName);
    const context = this.context(functionName, { id: m.messageId, dequeueCount: m.dequeueCount, queueTrigger: m.messageText });
    try {
      await handler(decodeQueueMessage(m.messageText), context);
      await this.writeOutputs(context, outputs);
      await q.deleteMessage(m.messageId, m.popReceipt);
    } catch (e) {
      const reason = ensureError(e).message;
      if (m.dequeueCount >= this.maxDequeueCount) {
        await this.queue(`${queueName}-poison`).sendMessage(m.messageText);
        await q.deleteMessage(m.messageId, m.popReceipt);
        this.log(`[${functionName}] message ${m.messageId} moved to ${queueName}-poison after ${m.dequeueCount} attempts: ${reason}`);
      } else {
        this.log(`[${functionName}] message ${m.messageId} failed (attempt ${m.dequeueCount}), retried after the visibility timeout: ${reason}`);
      }
    }
  }

  private async writeOutputs(context: InvocationContext, outputs: OutputRoute[]): Promise<void> {
    for (const o of outputs) {
      const value = context.extraOutputs.get(o.binding);
      if (value === undefined) continue;
      const items = Array.isArray(value) ? value : [value];
      const q = this.queue(o.queueName);
      for (const item of items) await q.sendMessage(encodeQueueMessage(item));
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Resolves once the named queues hold no message (Azure and Azurite count invisible, in-flight
   * messages too) and no invocation is running: how `simulate` and tests wait for a sweep to finish.
   */
  async whenIdle(queueNames: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.inFlight.size === 0) {
        const counts = await Promise.all(queueNames.map(async (n) => (await this.queue(n).getProperties()).approximateMessagesCount ?? 0));
        if (this.inFlight.size === 0 && counts.every((c) => c === 0)) return;
      }
      if (Date.now() > deadline) throw new Error(`queues ${queueNames.join(", ")} still busy after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops timers and queue loops and waits for running invocations. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.inFlight]);
  }
}
