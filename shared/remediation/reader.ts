// The remediation ledger as a run's timeline sees it: rows are kept per lineage root (the run a
// retry chain started from), so a retry run also finds the row that created it on its root.
import type { RemediationReader } from "../api/types.js";
import type { InsightsStore } from "../insights/store.js";
import type { RunHead } from "../store/types.js";
import { RETRY_OF_TAG } from "./decide.js";
import type { RemediationRecord } from "./types.js";

export function remediationReader(ledger: Pick<InsightsStore, "listRemediation">): RemediationReader {
  return {
    async remediationForRun(head: RunHead): Promise<RemediationRecord[]> {
      const { project, runId } = head.ref;
      const root = head.tags[RETRY_OF_TAG];
      const [own, lineage] = await Promise.all([
        ledger.listRemediation(project, runId),
        root && root !== runId ? ledger.listRemediation(project, root) : Promise.resolve([]),
      ]);
      const mine = lineage.filter((r) => r.runId === runId || r.newRunId === runId);
      return [...own, ...mine].sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}
