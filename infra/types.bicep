// Parameter shapes shared by main.bicep and its modules.

@export()
@description('Resource tags')
type tagsType = {
  *: string
}

@export()
@description('A Foundry project the monitor watches. `name`, `endpoint`, `api` and `discovery` become FOUNDRY_PROJECTS; `resourceId` is where the read role is assigned.')
type foundryProjectType = {
  @description('Short name used in run keys and dashboards (letters, digits, _ . -)')
  @maxLength(63)
  name: string

  @description('Project endpoint: https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT')
  endpoint: string

  @description('ARM ID: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.CognitiveServices/accounts/ACCOUNT/projects/PROJECT')
  resourceId: string

  @description('Which API its agents use; both polls classic thread runs and v2 responses')
  api: apiType?

  @description('List recent runs nobody registered (classic API only)')
  discovery: bool?
}

@export()
type apiType = 'classic' | 'responses' | 'both'

@export()
@description('One entry of FOUNDRY_PROJECTS as the app reads it (shared/config/config.ts, FoundryProject)')
type appFoundryProjectType = {
  name: string
  endpoint: string
  api: apiType
  discovery: bool
}

@export()
type severityType = 'low' | 'medium' | 'high' | 'critical'

@export()
@description('Stall thresholds in seconds (shared/detect/policy-types.ts, Thresholds)')
type thresholdsType = {
  queuedSeconds: int
  inProgressSeconds: int
  requiresActionSeconds: int
  cancellingSeconds: int
  maxRuntimeSeconds: int
}

@export()
@description('MONITOR_POLICIES (shared/detect/policy-types.ts, PolicySet)')
type policySetType = {
  defaults: {
    owner: string
    severity: severityType
    thresholds: thresholdsType
    escalateCancelled: bool
  }
  @description('Ordered; the first override whose match fits a run wins')
  overrides: {
    match: {
      project: string?
      agentId: string?
      threadId: string?
      api: ('classic' | 'responses')?
      tags: { *: string }?
    }
    owner: string?
    severity: severityType?
    thresholds: {
      queuedSeconds: int?
      inProgressSeconds: int?
      requiresActionSeconds: int?
      cancellingSeconds: int?
      maxRuntimeSeconds: int?
    }?
    escalateCancelled: bool?
  }[]
}

// TICKET_SINKS (shared/tickets/sinks/config.ts). Credentials are never values here: a sink names
// the app setting that holds one (…Setting fields), and ticketSinkSecrets makes that setting a Key
// Vault reference.
type webhookSinkType = {
  kind: 'webhook'
  @description('Short lowercase name (letters, digits, -)')
  name: string
  @description('Only tickets for these policy owners; absent = every owner')
  owners: string[]?
  timeoutMs: int?
  url: string?
  urlSetting: string?
  secretSetting: string
}

@discriminator('type')
type serviceNowAuthType = { type: 'basic', user: string, passwordSetting: string } | { type: 'bearer', tokenSetting: string }

type serviceNowSinkType = {
  kind: 'servicenow'
  @description('Short lowercase name (letters, digits, -)')
  name: string
  @description('Only tickets for these policy owners; absent = every owner')
  owners: string[]?
  timeoutMs: int?
  instanceUrl: string
  auth: serviceNowAuthType
  assignmentGroup: string?
  category: string?
  callerId: string?
}

type jiraSinkType = {
  kind: 'jira'
  @description('Short lowercase name (letters, digits, -)')
  name: string
  @description('Only tickets for these policy owners; absent = every owner')
  owners: string[]?
  timeoutMs: int?
  baseUrl: string
  email: string
  tokenSetting: string
  projectKey: string
  issueType: string?
  labels: string[]?
}

@discriminator('type')
type azureDevOpsAuthType = { type: 'managed-identity', clientId: string? } | { type: 'pat', patSetting: string }

type azureDevOpsSinkType = {
  kind: 'azure-devops'
  @description('Short lowercase name (letters, digits, -)')
  name: string
  @description('Only tickets for these policy owners; absent = every owner')
  owners: string[]?
  timeoutMs: int?
  organizationUrl: string
  project: string
  workItemType: string?
  areaPath: string?
  auth: azureDevOpsAuthType
}

type pagerDutySinkType = {
  kind: 'pagerduty'
  @description('Short lowercase name (letters, digits, -)')
  name: string
  @description('Only tickets for these policy owners; absent = every owner')
  owners: string[]?
  timeoutMs: int?
  baseUrl: string?
  routingKeySetting: string
  source: string?
}

type fileSinkType = {
  kind: 'file'
  @description('Short lowercase name (letters, digits, -)')
  name: string
  @description('Only tickets for these policy owners; absent = every owner')
  owners: string[]?
  timeoutMs: int?
  path: string
}

@export()
@discriminator('kind')
@description('One ticket sink (TICKET_SINKS entry)')
type ticketSinkType = webhookSinkType | serviceNowSinkType | jiraSinkType | azureDevOpsSinkType | pagerDutySinkType | fileSinkType

@export()
@description('An app setting resolved from the monitor Key Vault, for ticket sinks that need a token')
type ticketSinkSecretType = {
  @description('App setting name the sink configuration refers to, e.g. TICKET_SINK_DESK_TOKEN')
  setting: string

  @description('Secret name in the monitor Key Vault')
  secretName: string
}

@export()
@description('The monitor settings of shared/config/config.ts, typed')
type monitorSettingsType = {
  foundryProjects: appFoundryProjectType[]
  pollIntervalSeconds: int
  shardCount: int
  pollConcurrency: int
  foundryRateLimitPerSecond: int
  foundryTimeoutMs: int
  maxActiveRunsPerProject: int
  historyRetentionDays: int
  discoverySchedule: string
  discoveryMaxThreads: int
  discoveryLookbackMinutes: int
  policies: policySetType
  escalationTopic: string
  ticketsSubscription: string
  ticketSinks: ticketSinkType[]
  ticketGrouping: ticketGroupingType
  dashboardBaseUrl: string
}

@export()
@description('Storm guard for tickets (TICKET_GROUPING): beyond threshold escalations of one group in a window, one grouped incident. threshold 0 = off.')
type ticketGroupingType = {
  groupBy: ('agentId' | 'reason' | 'project' | 'api' | 'threadId' | 'model')[]
  @minValue(0)
  threshold: int
  @minValue(1)
  windowSeconds: int
}
