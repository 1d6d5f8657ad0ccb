import { z } from "zod";

// Every setting the app reads lives here, once, with a one-line description. The same names appear
// in local.settings.sample.json and in infra/ (a test compares them).

const jsonSetting = <T extends z.ZodTypeAny>(schema: T, example: string) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: `expected JSON such as ${example}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const intSetting = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `expected an integer between ${min} and ${max}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

const ncrontab = (example: string) => z.string().regex(/^\S+( \S+){5}$/, `expected a six-field NCRONTAB such as ${example}`).default(example);

const httpsUrl = z.string().refine((s) => /^https:\/\/[^\s/]+/.test(s), { message: "expected an https URL" });

export const FoundryProject = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "expected a short name (letters, digits, _ . -)"),
  endpoint: httpsUrl,
  /** Which API this project's agents use; `both` polls classic and v2 runs. */
  api: z.enum(["classic", "responses", "both"]).default("both"),
  /** Discovery lists recent threads' runs (classic) and registers active runs nobody registered. */
  discovery: z.boolean().default(false),
}).strict();
export type FoundryProject = z.infer<typeof FoundryProject>;

/** Setting name → description. Kept next to the schema so docs and samples can be generated from it. */
export const SETTING_DESCRIPTIONS: Record<string, string> = {
  FOUNDRY_PROJECTS: "JSON list of Foundry projects to watch: [{name, endpoint, api: classic|responses|both, discovery}]",
  POLL_INTERVAL_SECONDS: "Seconds between sweeps of the active-run index (5–3600)",
  SWEEP_SCHEDULE: "NCRONTAB of the sweep timer, matching POLL_INTERVAL_SECONDS (e.g. */30 * * * * *)",
  SHARD_COUNT: "Number of active-index shards; one poll-shards message per non-empty shard each sweep (1–1024)",
  POLL_CONCURRENCY: "Foundry reads in flight per poll-shard invocation (1–256)",
  FOUNDRY_RATE_LIMIT_PER_SECOND: "Upper bound on Foundry reads in any sliding second per instance, paced evenly (1–10000); leave Foundry a few percent of headroom",
  FOUNDRY_TIMEOUT_MS: "Timeout of one Foundry read in milliseconds (500–120000)",
  MAX_ACTIVE_RUNS_PER_PROJECT: "Registrations beyond this many active runs in one project are rejected with 429",
  HISTORY_RETENTION_DAYS: "Days a terminal run's history is kept before it is removed (1–3650)",
  DISCOVERY_SCHEDULE: "NCRONTAB of the discover-runs timer, which lists recent threads of projects with discovery on (default every 5 minutes: 0 */5 * * * *)",
  DISCOVERY_MAX_THREADS: "Newest classic threads discovery lists per project and tick; each costs one Foundry call (1–10000)",
  DISCOVERY_LOOKBACK_MINUTES: "Discovery lists threads created within this many minutes (1–43200)",
  MONITOR_POLICIES: "JSON detection policy: {defaults:{thresholds,severity,owner,escalateCancelled}, overrides:[{match,…}]}",
  ESCALATION_TOPIC: "Service Bus topic escalations are published to",
  TICKETS_SUBSCRIPTION: "Service Bus subscription the open-ticket function listens on",
  TICKET_GROUPING: "JSON storm guard {groupBy:[agentId,reason], threshold:N, windowSeconds:W}; threshold 0 = one ticket per run always",
  TICKET_SINKS: "JSON list of ticket sinks [{name, kind, …}]; secrets come from Key Vault references",
  DASHBOARD_BASE_URL: "Public base URL of the dashboard/API, used for links in tickets",
  AzureWebJobsStorage__tableServiceUri: "Table service URI of the monitor's storage account (identity-based)",
  AzureWebJobsStorage__queueServiceUri: "Queue service URI of the monitor's storage account (identity-based)",
  AzureWebJobsStorage__blobServiceUri: "Blob service URI of the monitor's storage account (identity-based)",
  AzureWebJobsStorage__credential: "managedidentity in Azure",
  AzureWebJobsStorage__clientId: "Client ID of the user-assigned managed identity",
  ServiceBusConnection__fullyQualifiedNamespace: "Service Bus namespace host name (identity-based)",
  ServiceBusConnection__credential: "managedidentity in Azure",
  ServiceBusConnection__clientId: "Client ID of the user-assigned managed identity",
  AZURE_CLIENT_ID: "Client ID of the user-assigned managed identity used by DefaultAzureCredential",
  APPLICATIONINSIGHTS_CONNECTION_STRING: "Application Insights connection string (not a secret; ingestion endpoint + key)",
};

const StorageSettings = z
  .object({
    /** Local only (Azurite): a development connection string. In Azure, the identity-based URIs are used. */
    AzureWebJobsStorage: z.string().optional(),
    AzureWebJobsStorage__tableServiceUri: httpsUrl.optional(),
    AzureWebJobsStorage__queueServiceUri: httpsUrl.optional(),
    AzureWebJobsStorage__blobServiceUri: httpsUrl.optional(),
    AzureWebJobsStorage__credential: z.literal("managedidentity").optional(),
    AzureWebJobsStorage__clientId: z.string().optional(),
  });

export const SettingsSchema = StorageSettings.extend({
  FOUNDRY_PROJECTS: jsonSetting(z.array(FoundryProject).min(1, "expected at least one project"), '[{"name":"prod","endpoint":"https://…/api/projects/prod","api":"both"}]'),
  POLL_INTERVAL_SECONDS: intSetting(5, 3600, 30),
  SWEEP_SCHEDULE: ncrontab("*/30 * * * * *"),
  SHARD_COUNT: intSetting(1, 1024, 16),
  POLL_CONCURRENCY: intSetting(1, 256, 32),
  FOUNDRY_RATE_LIMIT_PER_SECOND: intSetting(1, 10000, 200),
  FOUNDRY_TIMEOUT_MS: intSetting(500, 120000, 10000),
  MAX_ACTIVE_RUNS_PER_PROJECT: intSetting(1, 10_000_000, 200_000),
  HISTORY_RETENTION_DAYS: intSetting(1, 3650, 90),
  DISCOVERY_SCHEDULE: ncrontab("0 */5 * * * *"),
  DISCOVERY_MAX_THREADS: intSetting(1, 10_000, 100),
  DISCOVERY_LOOKBACK_MINUTES: intSetting(1, 43_200, 1440),
  MONITOR_POLICIES: z.string().optional(),
  ESCALATION_TOPIC: z.string().default("run-escalations"),
  TICKETS_SUBSCRIPTION: z.string().default("tickets"),
  TICKET_SINKS: z.string().optional(),
  TICKET_GROUPING: jsonSetting(
    z.object({ groupBy: z.array(z.enum(["agentId", "reason", "project", "api", "threadId", "model"])).min(1), threshold: z.number().int().min(0), windowSeconds: z.number().int().min(1) }).strict(),
    '{"groupBy":["agentId","reason"],"threshold":10,"windowSeconds":300}',
  ).optional(),
  DASHBOARD_BASE_URL: z.string().optional(),
  ServiceBusConnection: z.string().optional(),
  ServiceBusConnection__fullyQualifiedNamespace: z.string().optional(),
  ServiceBusConnection__credential: z.literal("managedidentity").optional(),
  ServiceBusConnection__clientId: z.string().optional(),
  AZURE_CLIENT_ID: z.string().optional(),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().optional(),
});

export type Settings = z.infer<typeof SettingsSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Formats zod issues as `PATH: message` lines, the path written the way an operator names the setting. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const path = i.path
      .map((p, k) => (typeof p === "number" ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`))
      .join("");
    const message = i.code === "invalid_type" && i.input === undefined ? "is required" : i.message;
    return `${path || "(root)"}: ${message}`;
  });
}

/** Validates the whole environment once; throws one ConfigError listing every bad or missing setting. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const parsed = SettingsSchema.safeParse(env);
  const problems = [...(parsed.success ? [] : formatIssues(parsed.error.issues)), ...crossChecks(env, parsed.success ? parsed.data : undefined)];
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** Checks that span settings; run even when single settings failed, so one message lists everything. */
function crossChecks(env: Record<string, string | undefined>, s: Settings | undefined): string[] {
  const problems: string[] = [];
  const local = !!env.AzureWebJobsStorage;
  if (!local && !env.AzureWebJobsStorage__tableServiceUri) problems.push("AzureWebJobsStorage__tableServiceUri: expected the Table service URI (or AzureWebJobsStorage for local development)");
  if (!local && !env.AzureWebJobsStorage__queueServiceUri) problems.push("AzureWebJobsStorage__queueServiceUri: expected the Queue service URI (or AzureWebJobsStorage for local development)");
  if (!env.ServiceBusConnection && !env.ServiceBusConnection__fullyQualifiedNamespace) {
    problems.push("ServiceBusConnection__fullyQualifiedNamespace: expected the Service Bus namespace host (e.g. contoso.servicebus.windows.net)");
  }
  const names = new Set<string>();
  s?.FOUNDRY_PROJECTS.forEach((p, i) => {
    if (names.has(p.name)) problems.push(`FOUNDRY_PROJECTS[${i}].name: duplicate project name ${JSON.stringify(p.name)}`);
    names.add(p.name);
  });
  return problems;
}
