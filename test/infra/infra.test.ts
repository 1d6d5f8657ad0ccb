// The infrastructure, checked by the real Bicep CLI: infra/main.bicep must compile and lint with
// zero errors and zero warnings, and the compiled ARM template must keep the invariants the
// deployment guide promises (no keys, identity everywhere, least-privilege roles, diagnostics,
// alerts on names the app emits). Needs the bicep binary: `bash scripts/install-bicep.sh`.
import { beforeAll, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { loadSettings, SETTING_DESCRIPTIONS } from "../../shared/config/config.js";
import { ESCALATION_REASONS } from "../../shared/model/run.js";
import { repoRoot } from "../support/paths.js";
import { MONITOR_TABLES } from "../../shared/doctor/probes.js";
import {
  arr, diagnostics, findBicep, moduleDeployment, moduleParam, obj, ofType, one, props, resourcesOf, runBicep,
  type ArmResource, type Obj,
} from "./arm.js";

const root = repoRoot();
const infraDir = path.join(root, "infra");
const bicep = findBicep(root);
const ci = !!process.env.CI;

if (!bicep && !ci) {
  console.warn("SKIPPED test/infra: the Bicep CLI is not installed. Run `bash scripts/install-bicep.sh` (or `npm run test:infra`). In CI (CI set) these tests fail instead.");
}
const describeInfra = bicep || ci ? describe : describe.skip;

const ROLE = {
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  serviceBusDataSender: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
  serviceBusDataReceiver: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  azureAiUser: "53ca6127-db72-4b80-b1b0-d745d6d5456d",
} as const;
const BROAD_ROLES = ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635" /* Owner */, "b24988ac-6180-42a0-ab88-20f7382dd24c" /* Contributor */, "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9" /* User Access Administrator */];

// Settings that are not the app's own (SETTING_DESCRIPTIONS) and so may appear on one side only.
/** Read by the Functions host in Azure: Entra ID auth for its telemetry (the component has local auth off). */
const AZURE_ONLY_HOST_SETTINGS = ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"];
/** Local only: Flex Consumption rejects it as an app setting (the runtime is functionAppConfig.runtime). */
const LOCAL_ONLY_HOST_SETTINGS = ["FUNCTIONS_WORKER_RUNTIME"];

const SECRET_PATTERNS = /AccountKey=|SharedAccessKey=|SharedAccessSignature|listKeys\(|listConnectionStrings\(|listAccountSas\(|listServiceSas\(/i;

interface TelemetryNames {
  events: Record<string, string>;
  metrics: Record<string, string>;
  dimensions: Record<string, string[]>;
  platformMetrics: Record<string, string[]>;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, "utf8"));

/** Environment without the variables main.bicepparam reads, so the host's environment cannot leak in. */
function cleanParamEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const text = fs.readFileSync(path.join(infraDir, "main.bicepparam"), "utf8");
  const read = [...text.matchAll(/readEnvironmentVariable\('([A-Za-z0-9_]+)'/g)].map((m) => m[1]);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of read) delete env[name];
  return { ...env, ...extra };
}

interface ParamsBuild {
  status: number | null;
  output: string;
  parameters?: Obj;
}

async function buildParams(env: NodeJS.ProcessEnv): Promise<ParamsBuild> {
  const r = await runBicep(bicep!, ["build-params", "main.bicepparam", "--stdout"], infraDir, env);
  if (r.status !== 0) return { status: r.status, output: r.stdout + r.stderr };
  const outer = obj(JSON.parse(r.stdout), "build-params output");
  const parameters = obj(obj(JSON.parse(String(outer.parametersJson)), "parametersJson").parameters, "parameters");
  return { status: r.status, output: r.stderr, parameters };
}

const GOOD_PROJECTS = [
  {
    name: "prod",
    endpoint: "https://contoso.services.ai.azure.com/api/projects/prod",
    resourceId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/contoso/projects/prod",
    api: "classic",
  },
];

describeInfra("infra/main.bicep with the real Bicep CLI", () => {
  let template: Obj;
  let all: ArmResource[];
  let buildOutput: string;
  let lintOutput: string;
  let lintStatus: number | null;
  let telemetry: TelemetryNames;
  let defaultParams: ParamsBuild;
  let envParams: ParamsBuild;

  // Four CLI runs, started together: each compiles the whole template (a few seconds of CPU).
  beforeAll(async () => {
    if (!bicep) throw new Error("the Bicep CLI is missing: run `bash scripts/install-bicep.sh` before the tests (CI must install it)");
    const [build, lint, defaults, fromEnv] = await Promise.all([
      runBicep(bicep, ["build", "main.bicep", "--stdout"], infraDir),
      runBicep(bicep, ["lint", "main.bicep"], infraDir),
      buildParams(cleanParamEnv()),
      buildParams(cleanParamEnv({ FOUNDRY_PROJECTS: JSON.stringify(GOOD_PROJECTS), POLL_INTERVAL_SECONDS: "15" })),
    ]);
    buildOutput = build.stderr;
    if (build.status !== 0) throw new Error(`bicep build failed (exit ${build.status}):\n${build.stderr}`);
    template = obj(JSON.parse(build.stdout), "compiled template");
    all = resourcesOf(template);
    lintStatus = lint.status;
    lintOutput = lint.stdout + lint.stderr;
    defaultParams = defaults;
    envParams = fromEnv;
    telemetry = readJson(path.join(infraDir, "telemetry-names.json")) as TelemetryNames;
  });

  describe("compiler and linter", () => {
    test("bicep build reports no diagnostics", () => {
      expect(diagnostics(buildOutput)).toEqual([]);
    });

    test("bicep lint exits 0 with zero errors and zero warnings", () => {
      expect(diagnostics(lintOutput)).toEqual([]);
      expect(lintStatus).toBe(0);
    });

    test("bicepconfig.json keeps the analyzers on and turns none of them off", () => {
      const config = obj(readJson(path.join(infraDir, "bicepconfig.json")), "bicepconfig.json");
      const core = obj(obj(config.analyzers, "analyzers").core, "analyzers.core");
      expect(core.enabled).not.toBe(false);
      const rules = obj(core.rules ?? {}, "rules");
      for (const [name, rule] of Object.entries(rules)) {
        expect([name, obj(rule, name).level]).not.toEqual([name, "off"]);
        expect([name, obj(rule, name).level]).not.toEqual([name, "info"]);
      }
    });
  });

  describe("storage", () => {
    test("shared keys off, TLS 1.2, HTTPS only, no public blobs", () => {
      const p = props(one(all, "Microsoft.Storage/storageAccounts"));
      expect(p).toMatchObject({ allowSharedKeyAccess: false, minimumTlsVersion: "TLS1_2", supportsHttpsTrafficOnly: true, allowBlobPublicAccess: false });
    });

    test("creates the app's tables and queues and the deployment container", () => {
      const storage = one(all, "Microsoft.Storage/storageAccounts");
      const vars = obj(storage.template.variables, "storage variables");
      expect([...(vars.tableNames as string[])].sort()).toEqual([...MONITOR_TABLES].sort());
      expect(vars.queueNames).toEqual(expect.arrayContaining(["run-registrations", "poll-shards"]));
      expect(String(one(all, "Microsoft.Storage/storageAccounts/tableServices/tables").body.name)).toContain("variables('tableNames')[copyIndex()]");
      expect(String(one(all, "Microsoft.Storage/storageAccounts/queueServices/queues").body.name)).toContain("variables('queueNames')[copyIndex()]");
      expect(props(one(all, "Microsoft.Storage/storageAccounts/blobServices/containers")).publicAccess).toBe("None");
    });
  });

  describe("service bus", () => {
    test("namespace is Standard with local (SAS) auth disabled", () => {
      const ns = one(all, "Microsoft.ServiceBus/namespaces");
      expect(obj(ns.body.sku, "sku").name).toBe("Standard");
      expect(props(ns).disableLocalAuth).toBe(true);
    });

    test("run-escalations topic detects duplicates", () => {
      const topic = one(all, "Microsoft.ServiceBus/namespaces/topics");
      expect(moduleParam(all, "serviceBus", "topicName")).toBe("[variables('topicName')]");
      expect(obj(template.variables, "main variables").topicName).toBe("run-escalations");
      expect(props(topic).requiresDuplicateDetection).toBe(true);
      expect(String(props(topic).duplicateDetectionHistoryTimeWindow)).toMatch(/^PT\d+M$/);
    });

    test("tickets and sre-alerts subscriptions dead-letter, sre-alerts filters on severity", () => {
      const subs = ofType(all, "Microsoft.ServiceBus/namespaces/topics/subscriptions");
      expect(subs).toHaveLength(2);
      for (const s of subs) {
        expect(props(s).deadLetteringOnMessageExpiration).toBe(true);
        expect(props(s).maxDeliveryCount).toBeDefined();
      }
      const sb = one(all, "Microsoft.ServiceBus/namespaces");
      expect(obj(obj(sb.template.parameters, "params").sreAlertsSubscriptionName, "p").defaultValue).toBe("sre-alerts");
      expect(obj(template.variables, "main variables").ticketsSubscriptionName).toBe("tickets");
      const rule = one(all, "Microsoft.ServiceBus/namespaces/topics/subscriptions/rules");
      expect(String(rule.body.name)).toContain("'$Default'"); // replaces the match-all default rule
      expect(props(rule).filterType).toBe("SqlFilter");
      expect(obj(props(rule).sqlFilter, "sqlFilter").sqlExpression).toBe("severity IN ('high', 'critical') AND replayTo IS NULL");
    });
  });

  describe("function app", () => {
    test("Flex Consumption FC1, Node 20, identity-authenticated deployment storage", () => {
      const plan = one(all, "Microsoft.Web/serverfarms");
      expect(plan.body.sku).toEqual({ tier: "FlexConsumption", name: "FC1" });
      const site = one(all, "Microsoft.Web/sites");
      const cfg = obj(props(site).functionAppConfig, "functionAppConfig");
      expect(cfg.runtime).toEqual({ name: "node", version: "20" });
      const storage = obj(obj(cfg.deployment, "deployment").storage, "deployment.storage");
      expect(storage.type).toBe("blobContainer");
      expect(obj(storage.authentication, "authentication").type).toBe("UserAssignedIdentity");
      expect(props(site).httpsOnly).toBe(true);
    });

    test("every site runs as a user-assigned identity only", () => {
      const sites = ofType(all, "Microsoft.Web/sites");
      expect(sites.length).toBeGreaterThan(0);
      for (const site of sites) {
        const identity = obj(site.body.identity, `${site.symbol}.identity`);
        expect(identity.type).toBe("UserAssigned");
        expect(Object.keys(obj(identity.userAssignedIdentities, "userAssignedIdentities"))).toHaveLength(1);
        expect(props(site).keyVaultReferenceIdentity).toBeDefined();
      }
    });

    test("basic-auth publishing (FTP, SCM) is off", () => {
      const policies = ofType(all, "Microsoft.Web/sites/basicPublishingCredentialsPolicies");
      expect(policies.map((p) => props(p).allow)).toEqual([false, false]);
    });
  });

  describe("app settings", () => {
    let settings: Obj;
    let sampleKeys: string[];
    beforeAll(() => {
      const config = one(all, "Microsoft.Web/sites/config");
      // union(literal settings, Key Vault references of ticket-sink secrets)
      expect(config.body.properties).toBe("[union(variables('appSettings'), variables('ticketSinkSecretSettings'))]");
      settings = obj(obj(config.template.variables, "function-app variables").appSettings, "appSettings");
      const sample = obj(readJson(path.join(root, "local.settings.sample.json")), "local.settings.sample.json");
      sampleKeys = Object.keys(obj(sample.Values, "Values"));
    });

    test("identity-based connections only", () => {
      expect(settings).toMatchObject({
        AzureWebJobsStorage__credential: "managedidentity",
        AzureWebJobsStorage__clientId: "[parameters('identityClientId')]",
        ServiceBusConnection__credential: "managedidentity",
        ServiceBusConnection__clientId: "[parameters('identityClientId')]",
        AZURE_CLIENT_ID: "[parameters('identityClientId')]",
      });
      for (const k of ["blob", "queue", "table"]) expect(settings[`AzureWebJobsStorage__${k}ServiceUri`]).toBeDefined();
      expect(settings.ServiceBusConnection__fullyQualifiedNamespace).toBeDefined();
      // the connection-string forms must not exist in Azure
      expect(settings).not.toHaveProperty("AzureWebJobsStorage");
      expect(settings).not.toHaveProperty("ServiceBusConnection");
      expect(moduleParam(all, "functionApp", "appInsightsConnectionString")).toBe("[reference('monitoring').outputs.appInsightsConnectionString.value]");
    });

    test("no value looks like a key or connection string", () => {
      for (const [name, value] of Object.entries(settings)) expect([name, SECRET_PATTERNS.test(String(value))]).toEqual([name, false]);
      const secretSettings = String(obj(one(all, "Microsoft.Web/sites/config").template.variables, "vars").ticketSinkSecretSettings);
      expect(secretSettings).toContain("@Microsoft.KeyVault(VaultName=");
    });

    test("Bicep app settings and local.settings.sample.json name the same settings, and every app setting of shared/config", () => {
      const appOwn = Object.keys(SETTING_DESCRIPTIONS).sort();
      const bicepNames = Object.keys(settings).filter((k) => !AZURE_ONLY_HOST_SETTINGS.includes(k)).sort();
      const localNames = sampleKeys.filter((k) => !LOCAL_ONLY_HOST_SETTINGS.includes(k)).sort();
      expect(bicepNames).toEqual(localNames);
      expect(bicepNames).toEqual(appOwn);
      for (const k of AZURE_ONLY_HOST_SETTINGS) expect(Object.keys(settings)).toContain(k);
      for (const k of LOCAL_ONLY_HOST_SETTINGS) expect(sampleKeys).toContain(k);
    });

    test("local.settings.sample.json is a valid configuration with no secrets", () => {
      const text = fs.readFileSync(path.join(root, "local.settings.sample.json"), "utf8");
      expect(text).not.toMatch(SECRET_PATTERNS);
      const values = obj(obj(JSON.parse(text), "sample").Values, "Values") as Record<string, string>;
      expect(values.FUNCTIONS_WORKER_RUNTIME).toBe("node");
      expect(() => loadSettings(values)).not.toThrow();
    });
  });

  describe("role assignments", () => {
    const roleGuid = (r: ArmResource): string => {
      const expr = String(props(r).roleDefinitionId);
      const m = /variables\('roles'\)\.(\w+)/.exec(expr);
      if (!m) throw new Error(`${r.symbol}: unexpected roleDefinitionId ${expr}`);
      return String(obj(r.template.variables, "vars").roles && obj(obj(r.template.variables, "vars").roles, "roles")[m[1]]);
    };
    const local = (): ArmResource[] => ofType(all, "Microsoft.Authorization/roleAssignments").filter((r) => r.modulePath === "roles");

    test.each([
      ["Storage Blob Data Owner", ROLE.storageBlobDataOwner, "Microsoft.Storage/storageAccounts"],
      ["Storage Queue Data Contributor", ROLE.storageQueueDataContributor, "Microsoft.Storage/storageAccounts"],
      ["Storage Table Data Contributor", ROLE.storageTableDataContributor, "Microsoft.Storage/storageAccounts"],
      ["Service Bus Data Sender", ROLE.serviceBusDataSender, "Microsoft.ServiceBus/namespaces/topics"],
      ["Service Bus Data Receiver", ROLE.serviceBusDataReceiver, "Microsoft.ServiceBus/namespaces/topics/subscriptions"],
      ["Key Vault Secrets User", ROLE.keyVaultSecretsUser, "Microsoft.KeyVault/vaults"],
      ["Monitoring Metrics Publisher", ROLE.monitoringMetricsPublisher, "Microsoft.Insights/components"],
    ])("%s (%s), once, scoped to %s", (_name, guid, scopeType) => {
      const matches = local().filter((r) => roleGuid(r) === guid);
      expect(matches).toHaveLength(1);
      const p = props(matches[0]);
      expect(String(matches[0].body.scope)).toMatch(new RegExp(`^\\[resourceId\\('${scopeType.replace(/\//g, "\\/")}',`));
      expect(p.principalType).toBe("ServicePrincipal");
      expect(String(p.principalId)).toContain("Microsoft.ManagedIdentity/userAssignedIdentities");
    });

    test("nothing broader: every assignment is one of the listed data roles", () => {
      const allowed: string[] = Object.values(ROLE);
      const guids = local().map(roleGuid);
      expect(guids.every((g) => allowed.includes(g))).toBe(true);
      expect(JSON.stringify(template)).not.toMatch(new RegExp(BROAD_ROLES.join("|")));
    });

    test("Azure AI User on each Foundry project, in the project's own subscription and resource group", () => {
      const access = moduleDeployment(all, "foundryAccess");
      expect(obj(access.body.copy, "copy").count).toBe("[length(parameters('foundryProjects'))]");
      expect(access.body.subscriptionId).toBe("[split(parameters('foundryProjects')[copyIndex()].resourceId, '/')[2]]");
      expect(access.body.resourceGroup).toBe("[split(parameters('foundryProjects')[copyIndex()].resourceId, '/')[4]]");
      const mainParams = obj(template.parameters, "main parameters");
      expect(obj(mainParams.foundryReadRoleDefinitionId, "p").defaultValue).toBe(ROLE.azureAiUser);
      expect(moduleParam(all, "foundryAccess", "readRoleDefinitionId")).toBe("[parameters('foundryReadRoleDefinitionId')]");
      const [read, remediate] = ofType(all, "Microsoft.Authorization/roleAssignments").filter((r) => r.modulePath === "foundryAccess");
      for (const r of [read, remediate]) {
        expect(String(r.body.scope)).toMatch(/^\[resourceId\('Microsoft\.CognitiveServices\/accounts\/projects',/);
        expect(props(r).principalType).toBe("ServicePrincipal");
      }
      expect(String(props(read).roleDefinitionId)).toContain("parameters('readRoleDefinitionId')");
      expect(read.body.condition).toBeUndefined();
    });

    test("the remediation role is off by default", () => {
      const remediate = ofType(all, "Microsoft.Authorization/roleAssignments").filter((r) => r.modulePath === "foundryAccess")[1];
      expect(remediate.body.condition).toBe("[not(empty(parameters('remediationRoleDefinitionId')))]");
      expect(obj(obj(template.parameters, "params").foundryRemediationRoleDefinitionId, "p").defaultValue).toBe("");
    });
  });

  describe("key vault and diagnostics", () => {
    test("Key Vault uses RBAC with purge protection", () => {
      const p = props(one(all, "Microsoft.KeyVault/vaults"));
      expect(p).toMatchObject({ enableRbacAuthorization: true, enablePurgeProtection: true, enableSoftDelete: true });
      expect(p.accessPolicies).toBeUndefined();
    });

    test.each([
      ["functionApp", "Microsoft.Web/sites"],
      ["storage", "Microsoft.Storage/storageAccounts"],
      ["serviceBus", "Microsoft.ServiceBus/namespaces"],
      ["keyVault", "Microsoft.KeyVault/vaults"],
    ])("%s sends diagnostics to the Log Analytics workspace", (module, type) => {
      expect(moduleParam(all, module, "workspaceId")).toBe("[reference('monitoring').outputs.workspaceId.value]");
      const diag = ofType(all, "Microsoft.Insights/diagnosticSettings").filter((d) => d.modulePath === module && String(d.body.scope).startsWith(`[resourceId('${type}',`));
      expect(diag).toHaveLength(1);
      const p = props(diag[0]);
      expect(p.workspaceId).toBe("[parameters('workspaceId')]");
      expect(arr(p.logs ?? p.metrics, "logs").length).toBeGreaterThan(0);
    });

    test("Application Insights is workspace-based with local auth off", () => {
      const p = props(one(all, "Microsoft.Insights/components"));
      expect(String(p.WorkspaceResourceId)).toContain("Microsoft.OperationalInsights/workspaces");
      expect(p.DisableLocalAuth).toBe(true);
    });
  });

  describe("alerts", () => {
    const rules = (): ArmResource[] => ofType(all, "Microsoft.Insights/scheduledQueryRules");
    const queries = (): string[] =>
      rules().flatMap((r) => arr(obj(props(r).criteria, "criteria").allOf, "allOf").map((c) => String(obj(c, "criterion").query)));

    test("telemetry-names.json lists the events and metrics the app emits", () => {
      expect(Object.keys(telemetry.events).sort()).toEqual(
        ["MonitorDegraded", "RunEscalated", "RunRecovered", "RunTransition", "TicketOpened", "TicketSinkFailed", "TicketUpdated"].sort(),
      );
      expect(Object.keys(telemetry.metrics).sort()).toEqual(
        ["ActiveRuns", "DeadLetteredMessages", "DetectionLatencyMs", "Escalations", "OutboxAgeSeconds", "OutboxDepth", "PollErrors", "PollLatencyMs", "Polls", "TicketSinkOutcomes", "ToolCallDurationMs", "ToolCalls"].sort(),
      );
      for (const event of Object.keys(telemetry.dimensions)) expect(Object.keys(telemetry.events)).toContain(event);
    });

    test("log alerts query only names (and dimensions) from telemetry-names.json", () => {
      expect(queries().length).toBeGreaterThanOrEqual(5);
      for (const q of queries()) {
        const table = q.split("\n")[0].trim();
        expect(["customEvents", "customMetrics"]).toContain(table);
        const known = table === "customEvents" ? Object.keys(telemetry.events) : Object.keys(telemetry.metrics);
        const names = [...q.matchAll(/\bname\s*==\s*"([^"]+)"/g)].map((m) => m[1]);
        for (const m of q.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)) names.push(...[...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]));
        expect(names.length).toBeGreaterThan(0);
        for (const n of names) expect(known).toContain(n);
        const dims = [...q.matchAll(/customDimensions\.(\w+)/g)].map((m) => m[1]);
        const allowedDims = names.flatMap((n) => telemetry.dimensions[n] ?? []);
        for (const d of dims) expect([d, allowedDims.includes(d)]).toEqual([d, true]);
      }
    });

    test("escalation reasons in queries are reasons the detector emits", () => {
      const reasons = queries().flatMap((q) => [...q.matchAll(/reason in \(([^)]*)\)/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1])));
      expect(reasons.sort()).toEqual(["expired", "failed"]);
      for (const r of reasons) expect(ESCALATION_REASONS as readonly string[]).toContain(r);
      const prefixes = queries().flatMap((q) => [...q.matchAll(/reason startswith "([^"]+)"/g)].map((m) => m[1]));
      expect(prefixes).toEqual(["stalled"]);
      expect(ESCALATION_REASONS.filter((r) => r.startsWith("stalled")).length).toBeGreaterThan(0);
    });

    test.each([
      ["failed/expired per agent", /name == "RunEscalated"[\s\S]*reason in \("failed", "expired"\)/, "agentId"],
      ["stalls", /name == "RunEscalated"[\s\S]*reason startswith "stalled"/, "project"],
      ["monitor degraded", /name == "MonitorDegraded"/, "project"],
      ["ticket sink failures", /name == "TicketSinkFailed"/, "sink"],
    ])("an alert on %s, split by its dimension", (_what, pattern, dimension) => {
      const matching = rules().filter((r) => pattern.test(JSON.stringify(props(r).criteria).replace(/\\n/g, "\n").replace(/\\"/g, '"')));
      expect(matching).toHaveLength(1);
      const criterion = obj(arr(obj(props(matching[0]).criteria, "criteria").allOf, "allOf")[0], "criterion");
      expect(arr(criterion.dimensions, "dimensions").map((d) => obj(d, "dimension").name)).toContain(dimension);
      expect(props(matching[0]).scopes).toEqual(["[parameters('appInsightsId')]"]);
    });

    test("a metric alert on Service Bus dead-lettered messages", () => {
      const alert = one(all, "Microsoft.Insights/metricAlerts");
      const criterion = obj(arr(obj(props(alert).criteria, "criteria").allOf, "allOf")[0], "criterion");
      expect(telemetry.platformMetrics["Microsoft.ServiceBus/namespaces"]).toContain(criterion.metricName);
      expect(criterion.metricNamespace).toBe("Microsoft.ServiceBus/namespaces");
      expect(props(alert).scopes).toEqual(["[parameters('serviceBusNamespaceId')]"]);
    });

    test("every alert is wired to the action group parameter, and has no action when it is empty", () => {
      const vars = obj(rules()[0].template.variables, "alert variables");
      expect(vars.logAlertActions).toEqual({ actionGroups: "[if(empty(parameters('actionGroupId')), createArray(), createArray(parameters('actionGroupId')))]" });
      expect(vars.metricAlertActions).toBe("[if(empty(parameters('actionGroupId')), createArray(), createArray(createObject('actionGroupId', parameters('actionGroupId'))))]");
      for (const r of rules()) expect(props(r).actions).toBe("[variables('logAlertActions')]");
      expect(props(one(all, "Microsoft.Insights/metricAlerts")).actions).toBe("[variables('metricAlertActions')]");
      expect(moduleParam(all, "alerts", "actionGroupId")).toBe("[parameters('actionGroupId')]");
      expect(obj(obj(template.parameters, "params").actionGroupId, "p").defaultValue).toBe("");
    });
  });

  describe("the template as a whole", () => {
    test("holds no key, SAS or connection-string material", () => {
      expect(JSON.stringify(template)).not.toMatch(SECRET_PATTERNS);
    });
  });

  describe("main.bicepparam (azd parameters from the environment)", () => {
    test("with nothing set, it compiles clean and every parameter equals main.bicep's default", () => {
      expect([defaultParams.status, diagnostics(defaultParams.output)]).toEqual([0, []]);
      const mainParams = obj(template.parameters, "main parameters");
      for (const [name, value] of Object.entries(defaultParams.parameters!)) {
        const declared = obj(mainParams[name], `main parameter ${name}`);
        if ("defaultValue" in declared) expect([name, obj(value, name).value]).toEqual([name, declared.defaultValue]);
      }
    });

    test("JSON and numbers set in the environment arrive typed", () => {
      expect(envParams.status).toBe(0);
      expect(obj(envParams.parameters!.foundryProjects, "foundryProjects").value).toEqual(GOOD_PROJECTS);
      expect(obj(envParams.parameters!.pollIntervalSeconds, "pollIntervalSeconds").value).toBe(15);
    });

    test("a Foundry project must name its endpoint and ARM resource ID (checked before anything deploys)", () => {
      const definitions = obj(template.definitions, "definitions");
      const project = obj(definitions.foundryProjectType, "foundryProjectType");
      const fields = obj(project.properties, "foundryProjectType.properties");
      for (const required of ["name", "endpoint", "resourceId"]) expect(obj(fields[required], required).nullable).toBeUndefined();
      expect(obj(fields.api, "api").nullable).toBe(true);
    });
  });
});
