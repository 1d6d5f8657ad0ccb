import { AgentsClient } from "@azure/ai-agents";
import { defaultFoundryCredential } from "./credential.js";
import type { FoundrySourceOptions } from "./source-options.js";

/**
 * The classic SDK client as the monitor uses it: SDK retries off (the monitor backs off itself,
 * honouring Retry-After, and a retried create could start two runs), and the local simulator's
 * self-signed certificate trusted when one is given.
 */
export function createAgentsClient(options: FoundrySourceOptions): AgentsClient {
  return new AgentsClient(options.endpoint, options.credential ?? defaultFoundryCredential(), {
    retryOptions: { maxRetries: 0 },
    ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
  });
}
