// The read-only probes behind `run-monitor doctor` (the I/O half; report.ts is the pure half). Each
// probe makes the smallest call that proves "reachable, and this identity may read": a 404 for a
// made-up run proves Foundry let us in; listing one entity proves the table exists and is readable;
// peeking a subscription moves no message. Nothing is written, sent, completed or created.
import { TableClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import { QueueClient } from "@azure/storage-queue";
import { ServiceBusClient, type ServiceBusReceiver } from "@azure/service-bus";
import type { FoundryProject, Settings } from "../config/config.js";
import { ensureError } from "../errors.js";
import { FAST_FAIL_RETRY } from "../bus/publisher.js";
import { FoundryRequestError } from "../foundry/classify-outcome.js";
import { defaultFoundryCredential, localSimulatorCredential } from "../foundry/credential.js";
import { ProjectRunSources } from "../foundry/project-run-sources.js";
import type { Api, RunRef } from "../model/run.js";
import { sanitize } from "../sanitize/index.js";
import { TABLE_PREFIX } from "../services.js";
import { failed, passed, ROLE_FOR, warned, type CheckOutcome } from "./report.js";

/** Every table the app uses (run store, ticket ledger, insights); infra/ creates exactly these (a test compares). */
export const MONITOR_TABLES = ["runs", "active", "lookup", "tickets", "insights"].map((t) => `${TABLE_PREFIX}${t}`);
export const MONITOR_QUEUES = ["run-registrations", "poll-shards"];
/** The on-call subscription; the monitor only publishes to it, so its identity may not be allowed to peek. */
export const SRE_ALERTS_SUBSCRIPTION = "sre-alerts";

export interface ProbeOptions {
  /** PEM to trust for Foundry (the local simulator's self-signed certificate). */
  foundryCa?: string;
  /** Overrides the identity; by default DefaultAzureCredential (AZURE_CLIENT_ID), or a fixed token for a loopback endpoint (the simulator). */
  credential?: TokenCredential;
  env?: Record<string, string | undefined>;
  /** Upper bound on one probe. */
  timeoutMs?: number;
}

const LOOPBACK = /^https:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

async function timed<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
  const t0 = Date.now();
  try {
    return { value: await fn(), ms: Date.now() - t0 };
  } catch (e) {
    return { error: ensureError(e), ms: Date.now() - t0 };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Error text for a report: sanitized and short (SDK messages can quote URLs with SAS tokens). */
const short = (e: Error): string => sanitize(e.message.split("\n")[0]).slice(0, 300);

/** One probe per project and API: a made-up run must answer 404 through the same adapters the monitor polls with. */
export async function probeFoundry(projects: readonly FoundryProject[], settings: Pick<Settings, "FOUNDRY_TIMEOUT_MS">, options: ProbeOptions = {}): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [];
  for (const project of projects) {
    const credential = options.credential ?? (LOOPBACK.test(project.endpoint) ? localSimulatorCredential : defaultFoundryCredential(options.env));
    const sources = new ProjectRunSources([project], { credential, ca: options.foundryCa, timeoutMs: settings.FOUNDRY_TIMEOUT_MS });
    const apis: Api[] = project.api === "both" ? ["classic", "responses"] : [project.api];
    for (const api of apis) {
      const id = `foundry:${project.name}:${api}`;
      const title = `Foundry ${project.name} (${api === "classic" ? "threads/runs" : "responses"})`;
      const ref: RunRef =
        api === "classic"
          ? { project: project.name, api, runId: "run_doctorprobe0000000000000", threadId: "thread_doctorprobe00000000000" }
          : { project: project.name, api, runId: "resp_doctorprobe0000000000000", threadId: "" };
      const r = await timed(() => withTimeout(sources.poll(ref), (options.timeoutMs ?? 15_000) + settings.FOUNDRY_TIMEOUT_MS, "Foundry"));
      if (r.error) {
        if (r.error instanceof FoundryRequestError && (r.error.status === 401 || r.error.status === 403)) {
          out.push(failed(id, title, `HTTP ${r.error.status}: the monitor's identity may not read this project; grant it the ${ROLE_FOR.foundry} role on the project (${project.endpoint})`, r.ms));
        } else if (r.error instanceof FoundryRequestError) {
          out.push(failed(id, title, `HTTP ${r.error.status} from ${project.endpoint}: is the endpoint a Foundry project endpoint (…/api/projects/NAME)?`, r.ms));
        } else out.push(failed(id, title, short(r.error), r.ms));
        continue;
      }
      const outcome = r.value!;
      if (outcome.kind === "not-found") out.push(passed(id, title, `reachable and authorized: a probe run answered 404 as expected (${project.endpoint})`, r.ms));
      else if (outcome.kind === "observed") out.push(passed(id, title, `reachable and authorized (${project.endpoint})`, r.ms));
      else if (outcome.kind === "throttled") out.push(warned(id, title, `reachable, but throttled (429, retry after ${outcome.retryAfterMs} ms): lower FOUNDRY_RATE_LIMIT_PER_SECOND or ask for more quota`, r.ms));
      else {
        const auth = /Credential|Authentication|token/i.test(outcome.detail);
        out.push(failed(id, title, auth ? `no token for the monitor's identity: ${sanitize(outcome.detail)} (AZURE_CLIENT_ID set? signed in locally?)` : `not reachable: ${sanitize(outcome.detail)} (${project.endpoint})`, r.ms));
      }
    }
  }
  return out;
}

function storageCredential(settings: Settings, options: ProbeOptions): TokenCredential {
  if (options.credential) return options.credential;
  const env = { ...options.env, AZURE_CLIENT_ID: settings.AzureWebJobsStorage__clientId ?? settings.AZURE_CLIENT_ID };
  return defaultFoundryCredential(env);
}

function storageFailure(e: Error, kind: "table" | "queue", name: string): string {
  const status = (e as { statusCode?: number }).statusCode;
  if (status === 404) return `${kind} ${name} does not exist (infra creates it; the app also creates it on first start)`;
  if (status === 401 || status === 403) return `HTTP ${status}: grant the monitor's identity ${kind === "table" ? ROLE_FOR.table : ROLE_FOR.queue} on the storage account`;
  return `not reachable: ${short(e)}`;
}

/** Lists at most one entity of each monitor table: proves it exists and is readable. */
export async function probeTables(settings: Settings, options: ProbeOptions = {}): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [];
  const timeoutMs = options.timeoutMs ?? 15_000;
  for (const name of MONITOR_TABLES) {
    const client = settings.AzureWebJobsStorage
      ? TableClient.fromConnectionString(settings.AzureWebJobsStorage, name, { allowInsecureConnection: /UseDevelopmentStorage=true|=http:\/\//i.test(settings.AzureWebJobsStorage), retryOptions: { maxRetries: 1 } })
      : new TableClient(settings.AzureWebJobsStorage__tableServiceUri!, name, storageCredential(settings, options), { retryOptions: { maxRetries: 1 } });
    const r = await timed(() =>
      withTimeout(
        client.listEntities({ queryOptions: { select: ["PartitionKey"] }, abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 1 }).next(),
        timeoutMs + 1000,
        `table ${name}`,
      ),
    );
    out.push(r.error ? failed(`table:${name}`, `Table ${name}`, storageFailure(r.error, "table", name), r.ms) : passed(`table:${name}`, `Table ${name}`, "exists and is readable (one entity listed; write rights are not exercised)", r.ms));
  }
  return out;
}

/** Reads each queue's properties (message count): proves it exists and is readable, takes no message. */
export async function probeQueues(settings: Settings, options: ProbeOptions = {}): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [];
  const timeoutMs = options.timeoutMs ?? 15_000;
  for (const name of MONITOR_QUEUES) {
    const client = settings.AzureWebJobsStorage
      ? new QueueClient(settings.AzureWebJobsStorage, name, { retryOptions: { maxTries: 2 } })
      : new QueueClient(`${settings.AzureWebJobsStorage__queueServiceUri!.replace(/\/+$/, "")}/${name}`, storageCredential(settings, options), { retryOptions: { maxTries: 2 } });
    const r = await timed(() => withTimeout(client.getProperties({ abortSignal: AbortSignal.timeout(timeoutMs) }), timeoutMs + 1000, `queue ${name}`));
    out.push(
      r.error
        ? failed(`queue:${name}`, `Queue ${name}`, storageFailure(r.error, "queue", name), r.ms)
        : passed(`queue:${name}`, `Queue ${name}`, `exists and is readable (about ${r.value?.approximateMessagesCount ?? 0} waiting)`, r.ms),
    );
  }
  return out;
}

function busFailure(e: Error, what: string, role: string): string {
  const code = (e as { code?: string }).code;
  if (code === "MessagingEntityNotFoundError" || /could not be found|not-found/i.test(e.message)) return `${what} does not exist`;
  if (code === "UnauthorizedError" || /unauthori[sz]ed|401|403/i.test(e.message)) return `not authorized: grant the monitor's identity ${role} on the ${what}`;
  return `not reachable: ${short(e)}`;
}

async function peek(receiver: ServiceBusReceiver, timeoutMs: number, what: string): Promise<number> {
  try {
    return (await withTimeout(receiver.peekMessages(1), timeoutMs, what)).length;
  } finally {
    await receiver.close().catch(() => undefined);
  }
}

/** The topic (a send link attaches; nothing is sent) and each subscription (peek, which locks and moves nothing). */
export async function probeServiceBus(settings: Settings, options: ProbeOptions = {}): Promise<CheckOutcome[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const topic = settings.ESCALATION_TOPIC;
  let client: ServiceBusClient;
  if (settings.ServiceBusConnection) client = new ServiceBusClient(settings.ServiceBusConnection, { retryOptions: FAST_FAIL_RETRY });
  else {
    const env = { ...options.env, AZURE_CLIENT_ID: settings.ServiceBusConnection__clientId ?? settings.AZURE_CLIENT_ID };
    client = new ServiceBusClient(settings.ServiceBusConnection__fullyQualifiedNamespace!, options.credential ?? defaultFoundryCredential(env), { retryOptions: FAST_FAIL_RETRY });
  }
  const out: CheckOutcome[] = [];
  try {
    const sender = client.createSender(topic);
    const t = await timed(async () => {
      try {
        // Creating a batch attaches the send link (authorizing Send) and reads the size limit; the batch is never sent.
        return await withTimeout(sender.createMessageBatch(), timeoutMs, `topic ${topic}`);
      } finally {
        await sender.close().catch(() => undefined);
      }
    });
    out.push(
      t.error
        ? failed(`servicebus:topic:${topic}`, `Service Bus topic ${topic}`, busFailure(t.error, `topic ${topic}`, ROLE_FOR.topicSend), t.ms)
        : passed(`servicebus:topic:${topic}`, `Service Bus topic ${topic}`, `reachable, send link authorized (max message ${Math.round((t.value?.maxSizeInBytes ?? 0) / 1024)} KB; nothing sent)`, t.ms),
    );
    for (const sub of [settings.TICKETS_SUBSCRIPTION, SRE_ALERTS_SUBSCRIPTION]) {
      const id = `servicebus:subscription:${sub}`;
      const title = `Subscription ${topic}/${sub}`;
      const r = await timed(() => peek(client.createReceiver(topic, sub, { receiveMode: "peekLock" }), timeoutMs, `subscription ${sub}`));
      if (!r.error) {
        out.push(passed(id, title, `exists and is readable (peeked ${r.value} message${r.value === 1 ? "" : "s"}; nothing locked or settled)`, r.ms));
        continue;
      }
      const detail = busFailure(r.error, `subscription ${topic}/${sub}`, ROLE_FOR.subscriptionReceive);
      // The monitor only publishes to sre-alerts: its identity normally may not peek there.
      if (sub === SRE_ALERTS_SUBSCRIPTION && detail.startsWith("not authorized")) {
        out.push(warned(id, title, "the monitor's identity may not peek here (it only publishes to the topic), so the subscription's presence is not proven; check it with an identity that can read it", r.ms));
      } else out.push(failed(id, title, detail, r.ms));
    }
  } finally {
    await client.close().catch(() => undefined);
  }
  return out;
}
