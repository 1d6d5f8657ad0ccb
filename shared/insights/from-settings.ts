// Builds the insights store, the onCommitted hook and (only when asked) the remediation executor
// from the validated settings. Wiring them into the tracking core: `tracker.onCommitted = insights.hook`
// and `tracker.remediate = insights.remediate`.
import type { TokenCredential } from "@azure/identity";
import type { Settings } from "../config/config.js";
import { defaultFoundryCredential } from "../foundry/credential.js";
import { ClassicRemediationClient, type RemediationClient } from "../foundry/remediation-client.js";
import type { RunSource } from "../foundry/run-source.js";
import type { Instant } from "../model/run.js";
import type { RemediationExecutorDeps } from "../remediation/execute.js";
import { remediateOutboxItem } from "../remediation/outbox.js";
import type { OutboxItem } from "../store/types.js";
import type { Metrics } from "../tracking/deps.js";
import { insightsHook, type CommittedHook } from "./hook.js";
import { createTableInsightsStore, type InsightsStore } from "./store.js";

export interface InsightsServices {
  store: InsightsStore;
  hook: CommittedHook;
  /** True when the remediation executor exists (policies still opt in per run). */
  remediation: boolean;
  /** For `TrackerDeps.remediate`; undefined without the executor (outbox rows then go out unchanged). */
  remediate?: (item: OutboxItem) => Promise<OutboxItem | undefined>;
}

export interface InsightsServiceOptions {
  source: Pick<RunSource, "listSteps">;
  now(): Instant;
  tablePrefix: string;
  /** Default false: without it the monitor has no Foundry write client at all. */
  remediation?: boolean;
  register?: RemediationExecutorDeps["register"];
  foundryCredential?: TokenCredential;
  foundryCa?: string;
  storageCredential?: TokenCredential;
  /** Counted tool calls are reported here (the tracker's metrics). */
  metrics?: Pick<Metrics, "toolCall">;
  /** A "started" remediation row older than this is a dead executor's (default 60 s). */
  remediationStaleAfterMs?: number;
  log?: (line: string) => void;
}

export async function buildInsights(settings: Settings, options: InsightsServiceOptions): Promise<InsightsServices> {
  const store = settings.AzureWebJobsStorage
    ? createTableInsightsStore({ connectionString: settings.AzureWebJobsStorage, tablePrefix: options.tablePrefix })
    : createTableInsightsStore({ tableServiceUri: settings.AzureWebJobsStorage__tableServiceUri, credential: options.storageCredential ?? defaultFoundryCredential(), tablePrefix: options.tablePrefix });
  await store.init();
  let remediation: RemediationExecutorDeps | undefined;
  if (options.remediation) {
    const clients = new Map<string, RemediationClient>();
    remediation = {
      ledger: store,
      now: options.now,
      staleAfterMs: options.remediationStaleAfterMs,
      register: options.register,
      log: options.log,
      clientFor: (project) => {
        const p = settings.FOUNDRY_PROJECTS.find((x) => x.name === project);
        if (!p) return undefined;
        let c = clients.get(project);
        if (!c) clients.set(project, (c = new ClassicRemediationClient({ endpoint: p.endpoint, credential: options.foundryCredential, ca: options.foundryCa, timeoutMs: settings.FOUNDRY_TIMEOUT_MS })));
        return c;
      },
    };
  }
  const executor = remediation;
  return {
    store,
    hook: insightsHook({ store, source: options.source, metrics: options.metrics, log: options.log }),
    remediation: !!executor,
    ...(executor ? { remediate: (item: OutboxItem) => remediateOutboxItem(executor, item) } : {}),
  };
}
