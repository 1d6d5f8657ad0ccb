import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";

/**
 * The monitor's identity: in Azure the user-assigned managed identity named by AZURE_CLIENT_ID
 * (no keys anywhere); on a developer machine whatever DefaultAzureCredential finds (az login…).
 */
export function defaultFoundryCredential(env: Record<string, string | undefined> = process.env): TokenCredential {
  const clientId = env.AZURE_CLIENT_ID;
  return clientId ? new DefaultAzureCredential({ managedIdentityClientId: clientId }) : new DefaultAzureCredential();
}

/** A fixed-token credential for the local simulator, which accepts any bearer token. */
export const localSimulatorCredential: TokenCredential = {
  getToken: async () => ({ token: "local", expiresOnTimestamp: Date.now() + 3600e3 }),
};
