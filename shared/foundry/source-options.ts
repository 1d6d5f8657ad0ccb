import type { TokenCredential } from "@azure/identity";

/** What both SDK adapters need to reach one Foundry project. */
export interface FoundrySourceOptions {
  /** The project endpoint, `https://<resource>.services.ai.azure.com/api/projects/<project>`. */
  endpoint: string;
  /** Defaults to DefaultAzureCredential (managed identity AZURE_CLIENT_ID when set). */
  credential?: TokenCredential;
  /** A PEM certificate to trust, for the local simulator's self-signed HTTPS. */
  ca?: string;
  /** Timeout of one read, in ms (FOUNDRY_TIMEOUT_MS). */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** A signal that fires after `timeoutMs` or when the caller's signal fires, whichever is first. */
export function readDeadline(timeoutMs: number, caller?: AbortSignal): AbortSignal {
  const timer = AbortSignal.timeout(timeoutMs);
  return caller ? AbortSignal.any([timer, caller]) : timer;
}
