import type { TokenCredential } from "@azure/identity";
import { noTelemetry, type Telemetry } from "./telemetry.js";

export interface TelemetrySettings {
  APPLICATIONINSIGHTS_CONNECTION_STRING?: string;
  /** "ClientId=…;Authorization=AAD": what the Functions host reads for its own telemetry. */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING?: string;
  AZURE_CLIENT_ID?: string;
}

/**
 * Application Insights when a connection string is configured, else nothing. In Azure the
 * component has local auth off, so ingestion authenticates as the app's user-assigned managed
 * identity (AZURE_CLIENT_ID, or the ClientId of the authentication string).
 */
export async function telemetryFromSettings(settings: TelemetrySettings, overrides: { credential?: TokenCredential; offlineStorage?: boolean } = {}): Promise<Telemetry> {
  const connectionString = settings.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return noTelemetry;
  const credential = overrides.credential ?? (await ingestionCredential(settings));
  const { createAppInsightsTelemetry } = await import("./app-insights.js");
  return createAppInsightsTelemetry({ connectionString, credential, offlineStorage: overrides.offlineStorage });
}

async function ingestionCredential(settings: TelemetrySettings): Promise<TokenCredential | undefined> {
  const auth = Object.fromEntries((settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? "").split(";").map((kv) => kv.split("=").map((s) => s.trim())));
  const clientId = auth.ClientId || settings.AZURE_CLIENT_ID;
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import("@azure/identity");
  if (clientId) return new ManagedIdentityCredential({ clientId });
  // Entra ID asked for without an identity (a developer machine): whatever DefaultAzureCredential finds.
  if (/^aad$/i.test(auth.Authorization ?? "")) return new DefaultAzureCredential();
  return undefined;
}
