// Sink configuration (the TICKET_SINKS setting): which targets get tickets, and the NAMES of the app
// settings that hold their credentials. In Azure those settings are Key Vault references
// (@Microsoft.KeyVault(SecretUri=…)), resolved by the platform into the environment; the values
// never appear in configuration, logs or error messages.
import { z } from "zod";
import { ConfigError, formatIssues } from "../../config/config.js";
import { ensureError } from "../../errors.js";
import { AzureDevOpsSink } from "./azure-devops.js";
import { FileSink } from "./file.js";
import { basicAuth } from "./http.js";
import { JiraSink } from "./jira.js";
import { PagerDutySink } from "./pagerduty.js";
import { ServiceNowSink } from "./servicenow.js";
import { SinkError, type TicketSink } from "./types.js";
import { WebhookSink } from "./webhook.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** https, or plain http to a loopback address (local stack and tests only). */
const targetUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === "https:" || (u.protocol === "http:" && LOOPBACK.has(u.hostname));
    } catch {
      return false;
    }
  },
  { message: "expected an https URL (http only for 127.0.0.1/localhost)" },
);

/** The name of an app setting that holds a secret — never the secret itself. */
const settingName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "expected the NAME of an app setting (letters, digits, _), not a value");

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a short lowercase name (letters, digits, -)"),
  /** Only tickets routed to these owners (policy `owner`) go to this sink; absent = every owner. */
  owners: z.array(z.string().min(1)).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
};

export const WebhookSinkConfig = z.object({ ...common, kind: z.literal("webhook"), url: targetUrl.optional(), urlSetting: settingName.optional(), secretSetting: settingName }).strict();

const ServiceNowAuth = z.discriminatedUnion("type", [
  z.object({ type: z.literal("basic"), user: z.string().min(1), passwordSetting: settingName }).strict(),
  z.object({ type: z.literal("bearer"), tokenSetting: settingName }).strict(),
]);
export const ServiceNowSinkConfig = z
  .object({
    ...common,
    kind: z.literal("servicenow"),
    instanceUrl: targetUrl,
    auth: ServiceNowAuth,
    assignmentGroup: z.string().optional(),
    category: z.string().optional(),
    callerId: z.string().optional(),
  })
  .strict();

export const JiraSinkConfig = z
  .object({
    ...common,
    kind: z.literal("jira"),
    baseUrl: targetUrl,
    email: z.string().min(3),
    tokenSetting: settingName,
    projectKey: z.string().regex(/^[A-Z][A-Z0-9_]{1,9}$/, "expected a Jira project key such as OPS"),
    issueType: z.string().default("Bug"),
    labels: z.array(z.string()).default([]),
  })
  .strict();

const AzureDevOpsAuth = z.discriminatedUnion("type", [
  z.object({ type: z.literal("managed-identity"), clientId: z.string().optional() }).strict(),
  z.object({ type: z.literal("pat"), patSetting: settingName }).strict(),
]);
export const AzureDevOpsSinkConfig = z
  .object({
    ...common,
    kind: z.literal("azure-devops"),
    organizationUrl: targetUrl,
    project: z.string().min(1),
    workItemType: z.string().default("Bug"),
    areaPath: z.string().optional(),
    auth: AzureDevOpsAuth,
  })
  .strict();

export const PagerDutySinkConfig = z
  .object({
    ...common,
    kind: z.literal("pagerduty"),
    baseUrl: targetUrl.default("https://events.pagerduty.com"),
    routingKeySetting: settingName,
    source: z.string().default("foundry-run-monitor"),
  })
  .strict();

export const FileSinkConfig = z.object({ ...common, kind: z.literal("file"), path: z.string().min(1) }).strict();

export const SinkConfig = z.discriminatedUnion("kind", [WebhookSinkConfig, ServiceNowSinkConfig, JiraSinkConfig, AzureDevOpsSinkConfig, PagerDutySinkConfig, FileSinkConfig]);
export type SinkConfig = z.infer<typeof SinkConfig>;
/** What an operator writes (defaults not yet filled). */
export type SinkConfigInput = z.input<typeof SinkConfig>;

export const SinkConfigList = z.array(SinkConfig).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate sink name ${JSON.stringify(s.name)}` });
    seen.add(s.name);
    if (s.kind === "webhook" && !s.url === !s.urlSetting) ctx.addIssue({ code: "custom", path: [i, "url"], message: "expected exactly one of url or urlSetting" });
  });
});

/** Parses the TICKET_SINKS setting; one ConfigError naming every bad field as TICKET_SINKS[i].field. */
export function parseSinkConfigs(json: string | undefined, settingNameForErrors = "TICKET_SINKS"): SinkConfig[] {
  if (json === undefined || json.trim() === "") return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConfigError([`${settingNameForErrors}: expected a JSON array such as [{"name":"desk","kind":"jira",…}]`]);
  }
  const parsed = SinkConfigList.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues.map((i) => ({ ...i, path: [settingNameForErrors, ...i.path] }))));
  return parsed.data;
}

/** Whether tickets for `owner` go to this sink. */
export const sinkAccepts = (config: SinkConfig, owner: string): boolean => !config.owners || config.owners.includes(owner);

/** Azure DevOps' Entra resource (the same GUID in every tenant). */
export const AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default";

export interface CreateSinkOptions {
  now?: () => number;
  /** Entra access token for a scope; defaults to the app's managed identity via @azure/identity. */
  getToken?: (scope: string, clientId?: string) => Promise<string>;
}

async function managedIdentityToken(scope: string, clientId?: string): Promise<string> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  const token = await credential.getToken(scope);
  if (!token) throw new Error(`no token for ${scope}`);
  return token.token;
}

/**
 * Builds a sink, resolving each credential setting now so a missing one fails at start-up with its
 * NAME (never its value). `secrets` reads app settings, e.g. `(n) => process.env[n]`.
 */
export function createSink(config: SinkConfig, secrets: (name: string) => string | undefined, options: CreateSinkOptions = {}): TicketSink {
  const now = options.now ?? Date.now;
  const need = (setting: string, field: string): string => {
    const v = secrets(setting);
    if (!v) throw new ConfigError([`sink ${config.name}: ${field} names app setting ${setting}, which is not set (in Azure: a Key Vault reference that did not resolve?)`]);
    return v;
  };
  switch (config.kind) {
    case "webhook": {
      const url = config.url ?? need(config.urlSetting!, "urlSetting");
      if (!targetUrl.safeParse(url).success) throw new ConfigError([`sink ${config.name}: urlSetting ${config.urlSetting} does not hold an https URL`]);
      return new WebhookSink({ name: config.name, url, secret: need(config.secretSetting, "secretSetting"), timeoutMs: config.timeoutMs, now });
    }
    case "servicenow": {
      const secret = config.auth.type === "basic" ? need(config.auth.passwordSetting, "auth.passwordSetting") : need(config.auth.tokenSetting, "auth.tokenSetting");
      const authorization = config.auth.type === "basic" ? basicAuth(config.auth.user, secret) : `Bearer ${secret}`;
      return new ServiceNowSink({
        name: config.name,
        instanceUrl: config.instanceUrl,
        authorization,
        credentials: [secret, authorization],
        assignmentGroup: config.assignmentGroup,
        category: config.category,
        callerId: config.callerId,
        timeoutMs: config.timeoutMs,
      });
    }
    case "jira": {
      const token = need(config.tokenSetting, "tokenSetting");
      const authorization = basicAuth(config.email, token);
      return new JiraSink({
        name: config.name,
        baseUrl: config.baseUrl,
        authorization,
        credentials: [token, authorization],
        projectKey: config.projectKey,
        issueType: config.issueType,
        labels: config.labels,
        timeoutMs: config.timeoutMs,
      });
    }
    case "azure-devops": {
      let authorization: () => Promise<string>;
      let credentials: () => string[];
      if (config.auth.type === "pat") {
        const pat = need(config.auth.patSetting, "auth.patSetting");
        // A PAT goes in Basic auth with an empty user name.
        const header = basicAuth("", pat);
        authorization = () => Promise.resolve(header);
        credentials = () => [pat, header];
      } else {
        const clientId = config.auth.clientId;
        const getToken = options.getToken ?? managedIdentityToken;
        let last = "";
        authorization = async () => {
          try {
            last = await getToken(AZURE_DEVOPS_SCOPE, clientId);
          } catch (e) {
            // Token service hiccups are transient; the cause names no secret.
            throw new SinkError(config.name, `could not get an Entra token for Azure DevOps: ${ensureError(e).name}`, { permanent: false });
          }
          return `Bearer ${last}`;
        };
        credentials = () => [last];
      }
      return new AzureDevOpsSink({
        name: config.name,
        organizationUrl: config.organizationUrl,
        project: config.project,
        workItemType: config.workItemType,
        areaPath: config.areaPath,
        authorization,
        credentials,
        timeoutMs: config.timeoutMs,
      });
    }
    case "pagerduty":
      return new PagerDutySink({ name: config.name, baseUrl: config.baseUrl, routingKey: need(config.routingKeySetting, "routingKeySetting"), source: config.source, timeoutMs: config.timeoutMs });
    case "file":
      return new FileSink({ name: config.name, path: config.path, now });
  }
}
