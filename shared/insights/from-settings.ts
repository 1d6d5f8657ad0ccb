// Builds the insights store, the onCommitted hook and (only when asked) the remediation executor
// from the validated settings. Wiring it into buildServices is one line: `tracker.onCommitted = insights.hook`.
import type { TokenCredential } from "@azure/identity";
import type { Settings } from "../config/config.js";
import type { PolicySet } from "../detect/policy-types.js";
import { defaultFoundryCredential } from "../foundry/credential.js";
import { ClassicRemediationClient, type RemediationClient } from "../foundry/remediation-client.js";
import type { RunSource } from "../foundry/run-source.js";
import type { Instant } from "../model/run.js";
import type { RemediationExecutorDeps } from "../remediation/execute.js";
import { insightsHook, type CommittedHook } from "./hook.js";
import { createTableInsightsStore, type InsightsStore } from "./store.js";

export interface InsightsServices {
  store: InsightsStore;
  hook: CommittedHook;
  /** True when the remediation executor exists (policies still opt in per run). */
  remediation: boolean;
}

export interface InsightsServiceOptions {
  policies: PolicySet;
  source: Pick<RunSource, "listSteps">;
  now(): Instant;
  tablePrefix: string;
  /** Default false: without it the monitor has no Foundry write client at all. */
  remediation?: boolean;
  register?: RemediationExecutorDeps["register"];
  foundryCredential?: TokenCredential;
  foundryCa?: string;
  storageCredential?: TokenCredential;
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
  return { store, hook: insightsHook({ store, policies: options.policies, source: options.source, remediation, log: options.log }), remediation: !!remediation };
}
