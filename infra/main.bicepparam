// Parameters for `azd up`: each one reads the azd environment (`azd env set NAME VALUE`), falling back
// to main.bicep's default. JSON-valued settings are parsed here, so a list of projects or sinks is set
// as one JSON string and arrives in main.bicep typed and checked.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'run-monitor')
param location = readEnvironmentVariable('AZURE_LOCATION', 'eastus2')

// Same shape as the app's FOUNDRY_PROJECTS, plus each project's ARM `resourceId` (for its role assignment).
param foundryProjects = json(readEnvironmentVariable('FOUNDRY_PROJECTS', '[]'))
param monitorPolicies = json(readEnvironmentVariable('MONITOR_POLICIES', '{"defaults":{"owner":"platform","severity":"medium","escalateCancelled":false,"thresholds":{"queuedSeconds":300,"inProgressSeconds":900,"requiresActionSeconds":600,"cancellingSeconds":300,"maxRuntimeSeconds":3600}},"overrides":[]}'))
param ticketSinks = json(readEnvironmentVariable('TICKET_SINKS', '[]'))
// [{"setting":"TICKET_SINK_DESK_TOKEN","secretName":"desk-token"}]: settings that become Key Vault references.
param ticketSinkSecrets = json(readEnvironmentVariable('TICKET_SINK_SECRETS', '[]'))
param dashboardBaseUrl = readEnvironmentVariable('DASHBOARD_BASE_URL', '')
param ticketGrouping = json(readEnvironmentVariable('TICKET_GROUPING', '{"groupBy":["agentId","reason"],"threshold":0,"windowSeconds":300}'))

param pollIntervalSeconds = int(readEnvironmentVariable('POLL_INTERVAL_SECONDS', '30'))
param shardCount = int(readEnvironmentVariable('SHARD_COUNT', '16'))
param pollConcurrency = int(readEnvironmentVariable('POLL_CONCURRENCY', '32'))
param foundryRateLimitPerSecond = int(readEnvironmentVariable('FOUNDRY_RATE_LIMIT_PER_SECOND', '200'))
param foundryTimeoutMs = int(readEnvironmentVariable('FOUNDRY_TIMEOUT_MS', '10000'))
param maxActiveRunsPerProject = int(readEnvironmentVariable('MAX_ACTIVE_RUNS_PER_PROJECT', '200000'))
param historyRetentionDays = int(readEnvironmentVariable('HISTORY_RETENTION_DAYS', '90'))
param discoverySchedule = readEnvironmentVariable('DISCOVERY_SCHEDULE', '0 */5 * * * *')
param discoveryMaxThreads = int(readEnvironmentVariable('DISCOVERY_MAX_THREADS', '100'))
param discoveryLookbackMinutes = int(readEnvironmentVariable('DISCOVERY_LOOKBACK_MINUTES', '1440'))

param actionGroupId = readEnvironmentVariable('ALERT_ACTION_GROUP_ID', '')
param failedRunsPerAgentThreshold = int(readEnvironmentVariable('ALERT_FAILED_RUNS_PER_AGENT', '5'))
param stalledRunsThreshold = int(readEnvironmentVariable('ALERT_STALLED_RUNS', '1'))

param foundryReadRoleDefinitionId = readEnvironmentVariable('FOUNDRY_READ_ROLE_ID', '53ca6127-db72-4b80-b1b0-d745d6d5456d')
param foundryRemediationRoleDefinitionId = readEnvironmentVariable('FOUNDRY_REMEDIATION_ROLE_ID', '')

param maximumInstanceCount = int(readEnvironmentVariable('MAXIMUM_INSTANCE_COUNT', '40'))
param tableAndQueueRequestLogs = bool(readEnvironmentVariable('STORAGE_REQUEST_LOGS', 'false'))
