// The Foundry boundary: normalizers on raw wire JSON, the two SDK adapters and the per-project router.
export type { RunSource } from "./run-source.js";
export { MalformedBodyError } from "./wire.js";
export { normalizeClassicRun, normalizeClassicSteps, pickClassicFinalMessage, progressOf } from "./normalize-classic.js";
export { normalizeResponse, normalizeResponseOutput, pickResponseFinalMessage, RESPONSE_STATUSES } from "./normalize-response.js";
export {
  outcomeForStatus,
  outcomeForFailure,
  retryAfterMs,
  DEFAULT_RETRY_AFTER_MS,
  FoundryReadError,
  FoundryRequestError,
  type NonObservation,
} from "./classify-outcome.js";
export { ClassicRunSource } from "./classic-run-source.js";
export { ClassicDiscoverySource } from "./classic-discovery-source.js";
export { normalizeListPage, normalizeListedRun, normalizeListedThread, type DiscoverySource, type ListedRun, type ListedThread, type ListOutcome, type ListPage } from "./discovery-source.js";
export { ResponsesRunSource } from "./responses-run-source.js";
export { ProjectRunSources, UnknownProjectError, sdkRunSourceFactory, type RunSourceFactory, type ProjectRunSourcesOptions } from "./project-run-sources.js";
export { defaultFoundryCredential, localSimulatorCredential } from "./credential.js";
export { fetchTrustingCa } from "./tls-fetch.js";
export type { FoundrySourceOptions } from "./source-options.js";
