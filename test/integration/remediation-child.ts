// The monitor with opt-in remediation as a process the remediation kill -9 test can kill: the
// services built from settings as in Azure (Azurite tables, the AMQP broker, the HTTPS Foundry
// simulator), driven by commands on stdin, one per line, answered `ok …` on stdout:
//   register AT      register every run of CHILD_RUNS (a JSON list) at scenario second AT
//   poll AT          one pass over every shard at AT (what the poll-shard function does)
//   publish AT       one publish-outbox timer pass at AT
// CRASH_AT=POINT makes it print `kill POINT` and SIGKILL itself the first time POINT is passed:
//   commit           right after a commit whose outbox row names a remediation (before any publish)
//   claim            right after the remediation ledger row was inserted (before Foundry is called)
//   foundry:cancel   right after Foundry answered the cancel (before the ledger hears of it)
//   foundry:retry    right after Foundry answered the create-run (before the ledger hears of it)
//   finish           right after the ledger row was completed (before the retry run is registered and the escalation sent)
//   publish          right after an escalation carrying a remediation outcome was sent (before it is marked sent)
import fs from "node:fs";
import readline from "node:readline";
import type { EscalationPublisher } from "../../shared/bus/publisher.js";
import { loadSettings } from "../../shared/config/config.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { ClassicRemediationClient, type RemediationClient } from "../../shared/foundry/remediation-client.js";
import type { InsightsStore } from "../../shared/insights/store.js";
import type { RemediationExecutorDeps } from "../../shared/remediation/execute.js";
import { remediateOutboxItem } from "../../shared/remediation/outbox.js";
import { buildServices } from "../../shared/services.js";
import type { RunStore } from "../../shared/store/types.js";
import type { Clock } from "../../shared/tracking/clock.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { publishOutbox } from "../../shared/tracking/publish.js";
import { registerRun, type RegistrationRequest } from "../../shared/tracking/register.js";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const crashAt = process.env.CRASH_AT ?? "";
const point = (name: string): void => {
  if (name !== crashAt) return;
  process.stdout.write(`kill ${name}\n`); // synchronous on a pipe (Linux): the test learns which point fired
  process.kill(process.pid, "SIGKILL");
};

/** Scenario second → monitor time, as the simulator's manual clock maps it; waits only yield. */
const start = Date.parse(env("CHILD_SCENARIO_START"));
let at = 0;
const clock: Clock = { now: () => start + at * 1000, sleep: () => new Promise((r) => setImmediate(r)) };

const ca = fs.readFileSync(env("CHILD_CA"), "utf8");
const settings = loadSettings({
  AzureWebJobsStorage: env("CHILD_TABLES"),
  ServiceBusConnection: env("CHILD_BUS"),
  FOUNDRY_PROJECTS: env("CHILD_PROJECTS"),
  MONITOR_POLICIES: env("CHILD_POLICIES"),
  FOUNDRY_TIMEOUT_MS: "5000",
  FOUNDRY_RATE_LIMIT_PER_SECOND: "10000",
  SHARD_COUNT: "2",
});
const services = await buildServices(settings, { foundryCa: ca, foundryCredential: localSimulatorCredential, clock, log: () => {} }, {});
const tracker = services.tracker;

function killingStore(inner: RunStore): RunStore {
  return new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== "commit" || typeof value !== "function") return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      const commit: RunStore["commit"] = async (change) => {
        const result = await target.commit(change);
        if (result.ok && change.outbox.some((o) => o.remediation)) point("commit");
        return result;
      };
      return commit;
    },
  });
}

function killingLedger(inner: InsightsStore): RemediationExecutorDeps["ledger"] {
  return {
    claimRemediation: async (record) => {
      const claim = await inner.claimRemediation(record);
      if (claim.kind === "claimed") point("claim");
      return claim;
    },
    finishRemediation: async (record, etag) => {
      const result = await inner.finishRemediation(record, etag);
      if (result === "ok") point("finish");
      return result;
    },
  };
}

function killingClient(inner: RemediationClient): RemediationClient {
  return {
    cancelRun: async (t, r) => {
      const outcome = await inner.cancelRun(t, r);
      point("foundry:cancel");
      return outcome;
    },
    createRun: async (t, a) => {
      const outcome = await inner.createRun(t, a);
      point("foundry:retry");
      return outcome;
    },
    listRuns: (t) => inner.listRuns(t),
  };
}

function killingPublisher(inner: EscalationPublisher): EscalationPublisher {
  return {
    publish: async (items) => {
      const result = await inner.publish(items);
      if (items.some((i) => i.remediation?.state && result.sent.includes(i.messageId))) point("publish");
      return result;
    },
    close: () => inner.close(),
  };
}

// The executor as shared/insights/from-settings.ts builds it, with the kill points around its parts.
const project = settings.FOUNDRY_PROJECTS[0];
const client = killingClient(new ClassicRemediationClient({ endpoint: project.endpoint, credential: localSimulatorCredential, ca, timeoutMs: 5000 }));
const executor: RemediationExecutorDeps = {
  ledger: killingLedger(services.insights.store),
  clientFor: (name) => (name === project.name ? client : undefined),
  now: () => clock.now(),
  register: (r) => registerRun(tracker, r),
};
tracker.store = killingStore(tracker.store);
tracker.publisher = killingPublisher(tracker.publisher);
tracker.remediate = (item) => remediateOutboxItem(executor, item);

const runs = JSON.parse(env("CHILD_RUNS")) as RegistrationRequest[];
const commands: Record<string, () => Promise<unknown>> = {
  register: async () => {
    for (const r of runs) await registerRun(tracker, r);
  },
  poll: async () => {
    for (let shard = 0; shard < settings.SHARD_COUNT; shard++) await pollShard(tracker, shard);
  },
  publish: () => publishOutbox(tracker),
};

process.stdout.write("ready\n");
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [name, second] = line.trim().split(/\s+/);
  if (!commands[name]) throw new Error(`unknown command ${JSON.stringify(line)}`);
  at = Number(second);
  await commands[name]();
  process.stdout.write(`ok ${name} ${second}\n`);
}
await services.close();
process.exit(0);
