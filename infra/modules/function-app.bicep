// The monitor itself: one Function App on Flex Consumption (FC1, Linux, Node 20) running as the
// user-assigned identity. Every connection is identity-based; the app has no key or connection
// string to leak. Names of app settings match shared/config/config.ts and local.settings.sample.json.

import { monitorSettingsType, tagsType, ticketSinkSecretType } from '../types.bicep'

@description('Function App name')
param name string

@description('Flex Consumption plan name')
param planName string

@description('Azure region')
param location string

@description('Tags for the plan and the app (the app also gets azd-service-name)')
param tags tagsType

@description('Resource ID of the user-assigned identity the app runs as')
param identityId string

@description('Client ID of that identity')
param identityClientId string

@description('Blob service endpoint of the monitor storage account (https://ACCOUNT.blob.…/)')
param blobEndpoint string

@description('Queue service endpoint of the monitor storage account')
param queueEndpoint string

@description('Table service endpoint of the monitor storage account')
param tableEndpoint string

@description('URL of the blob container the app package is deployed to')
param deploymentContainerUrl string

@description('Service Bus namespace host name (NAME.servicebus.windows.net)')
param serviceBusFullyQualifiedNamespace string

@description('Application Insights connection string (ingestion endpoint; not a secret, local auth is off)')
param appInsightsConnectionString string

@description('Log Analytics workspace that receives diagnostics')
param workspaceId string

@description('Key Vault name ticket-sink secrets are referenced from')
param keyVaultName string

@description('Most instances Flex Consumption may scale out to (bounds Foundry load and cost)')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Settings of the monitor itself (see shared/config/config.ts, SETTING_DESCRIPTIONS)')
param monitor monitorSettingsType

@description('App settings resolved from Key Vault for ticket sinks: setting name → secret name')
param ticketSinkSecrets ticketSinkSecretType[]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references in app settings resolve with this identity (there is no system identity).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: '20' }
    }
  }
}

// Publishing with a user name and password (FTP, Kudu basic auth) stays off: azd deploys with Entra ID.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

// The monitor's own settings and the identity-based connections. Values come from parameters only,
// so this stays a literal object in the compiled template (a test compares its names with
// local.settings.sample.json and shared/config/config.ts).
var appSettings = {
  // Functions host storage and the app's tables/queues, identity-based (no AccountKey anywhere).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  // Service Bus trigger and publisher, identity-based (the namespace has local auth disabled).
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId
  // DefaultAzureCredential in the app (Foundry clients, table/queue clients) picks this identity.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  // Host telemetry authenticates to Application Insights with the identity (local auth is off).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  FOUNDRY_PROJECTS: string(monitor.foundryProjects)
  POLL_INTERVAL_SECONDS: string(monitor.pollIntervalSeconds)
  // The sweep timer's NCRONTAB (seconds field first), derived from the poll interval.
  SWEEP_SCHEDULE: monitor.pollIntervalSeconds < 60 ? '*/${monitor.pollIntervalSeconds} * * * * *' : '0 */${monitor.pollIntervalSeconds / 60} * * * *'
  SHARD_COUNT: string(monitor.shardCount)
  POLL_CONCURRENCY: string(monitor.pollConcurrency)
  FOUNDRY_RATE_LIMIT_PER_SECOND: string(monitor.foundryRateLimitPerSecond)
  FOUNDRY_TIMEOUT_MS: string(monitor.foundryTimeoutMs)
  MAX_ACTIVE_RUNS_PER_PROJECT: string(monitor.maxActiveRunsPerProject)
  HISTORY_RETENTION_DAYS: string(monitor.historyRetentionDays)
  // The discover-runs timer's NCRONTAB: the host needs it even when no project has discovery on.
  DISCOVERY_SCHEDULE: monitor.discoverySchedule
  DISCOVERY_MAX_THREADS: string(monitor.discoveryMaxThreads)
  DISCOVERY_LOOKBACK_MINUTES: string(monitor.discoveryLookbackMinutes)
  MONITOR_POLICIES: string(monitor.policies)
  ESCALATION_TOPIC: monitor.escalationTopic
  TICKETS_SUBSCRIPTION: monitor.ticketsSubscription
  TICKET_SINKS: string(monitor.ticketSinks)
  TICKET_GROUPING: string(monitor.ticketGrouping)
  DASHBOARD_BASE_URL: monitor.dashboardBaseUrl
}

// One extra setting per ticket-sink secret, each a Key Vault reference (the value never passes
// through the template or the deployment history).
var ticketSinkSecretSettings = toObject(
  ticketSinkSecrets,
  s => s.setting,
  s => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${s.secretName})'
)

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, ticketSinkSecretSettings)
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [{ category: 'FunctionAppLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
