// foundry-run-monitor, one deployment per subscription (azd up). Creates the monitor's resource
// group and everything in it, and grants the monitor identity read access to each Foundry project
// it watches, wherever that project lives in the subscription.
targetScope = 'subscription'

import { foundryProjectType, policySetType, ticketGroupingType, ticketSinkSecretType, ticketSinkType } from 'types.bicep'

@minLength(1)
@maxLength(64)
@description('azd environment name; every resource name derives from it')
param environmentName string

@minLength(1)
@description('Region of the monitor (must offer Flex Consumption)')
param location string

@description('Foundry projects to watch; the monitor identity gets the read role on each')
param foundryProjects foundryProjectType[] = []

@description('Seconds between sweeps of the active-run index')
@minValue(5)
@maxValue(3600)
param pollIntervalSeconds int = 30

@description('Active-index shards; one poll-shards message per non-empty shard per sweep')
@minValue(1)
@maxValue(1024)
param shardCount int = 16

@description('Foundry reads in flight per poll-shard invocation')
@minValue(1)
@maxValue(256)
param pollConcurrency int = 32

@description('Upper bound on Foundry reads per second per instance')
@minValue(1)
@maxValue(10000)
param foundryRateLimitPerSecond int = 200

@description('Timeout of one Foundry read in milliseconds')
@minValue(500)
@maxValue(120000)
param foundryTimeoutMs int = 10000

@description('Registrations beyond this many active runs in one project are rejected')
@minValue(1)
param maxActiveRunsPerProject int = 200000

@description('Days a terminal run\'s history is kept')
@minValue(1)
@maxValue(3650)
param historyRetentionDays int = 90

@description('NCRONTAB of the discover-runs timer (only projects with discovery on are listed)')
param discoverySchedule string = '0 */5 * * * *'

@description('Newest classic threads discovery lists per project and tick (one Foundry call each)')
@minValue(1)
@maxValue(10000)
param discoveryMaxThreads int = 100

@description('Discovery lists threads created within this many minutes')
@minValue(1)
@maxValue(43200)
param discoveryLookbackMinutes int = 1440

@description('Detection policy: {defaults:{thresholds,severity,owner,escalateCancelled}, overrides:[…]}')
param monitorPolicies policySetType = {
  defaults: {
    owner: 'platform'
    severity: 'medium'
    escalateCancelled: false
    thresholds: {
      queuedSeconds: 300
      inProgressSeconds: 900
      requiresActionSeconds: 600
      cancellingSeconds: 300
      maxRuntimeSeconds: 3600
    }
  }
  overrides: []
}

@description('Ticket sinks [{name, kind, …}]; tokens go in Key Vault and are named in ticketSinkSecrets')
param ticketSinks ticketSinkType[] = []

@description('App settings resolved from the monitor Key Vault for ticket sinks')
param ticketSinkSecrets ticketSinkSecretType[] = []

@description('Storm guard for tickets; threshold 0 turns it off')
param ticketGrouping ticketGroupingType = { groupBy: ['agentId', 'reason'], threshold: 0, windowSeconds: 300 }

@description('Public base URL of the dashboard/API for links in tickets; empty = the app\'s default host name')
param dashboardBaseUrl string = ''

@description('Action group alerts notify; empty = alert rules without actions')
param actionGroupId string = ''

@description('Failed/expired runs of one agent in 15 minutes that raise an alert')
@minValue(1)
param failedRunsPerAgentThreshold int = 5

@description('Stalled runs of one project in 15 minutes that raise an alert')
@minValue(1)
param stalledRunsThreshold int = 1

@description('Role the monitor needs to read runs on each Foundry project. Default: Azure AI User (shown as Foundry User); a custom read-only role can replace it')
param foundryReadRoleDefinitionId string = '53ca6127-db72-4b80-b1b0-d745d6d5456d'

@description('Optional role for remediation (cancel / re-create runs) on each Foundry project; empty = not assigned')
param foundryRemediationRoleDefinitionId string = ''

@description('Most instances the app may scale out to')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Log every table/queue request to Log Analytics (costly at scale; metrics are always sent)')
param tableAndQueueRequestLogs bool = false

@description('Memory per instance in MB')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-${resourceToken}'
var identityName = 'id-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var serviceBusNamespaceName = 'sb-${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var appInsightsName = 'appi-${resourceToken}'
var topicName = 'run-escalations'
var ticketsSubscriptionName = 'tickets'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: 'log-${resourceToken}'
    appInsightsName: appInsightsName
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    deploymentContainerName: 'app-package'
    workspaceId: monitoring.outputs.workspaceId
    tableAndQueueRequestLogs: tableAndQueueRequestLogs
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: serviceBusNamespaceName
    location: location
    tags: tags
    topicName: topicName
    ticketsSubscriptionName: ticketsSubscriptionName
    workspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    // Names known before deployment (not module outputs), so What-If can predict every assignment.
    identityName: identityName
    storageAccountName: storageAccountName
    serviceBusNamespaceName: serviceBusNamespaceName
    topicName: topicName
    ticketsSubscriptionName: ticketsSubscriptionName
    keyVaultName: keyVaultName
    appInsightsName: appInsightsName
  }
  dependsOn: [identity, storage, serviceBus, keyVault, monitoring]
}

// The project's ARM ID names its subscription [2], resource group [4], account [8] and project [10].
module foundryAccess 'modules/foundry-project-access.bicep' = [
  for project in foundryProjects: {
    name: take('foundry-access-${resourceToken}-${project.name}', 64)
    scope: resourceGroup(split(project.resourceId, '/')[2], split(project.resourceId, '/')[4])
    params: {
      accountName: split(project.resourceId, '/')[8]
      projectName: split(project.resourceId, '/')[10]
      identityResourceId: resourceId(subscription().subscriptionId, rg.name, 'Microsoft.ManagedIdentity/userAssignedIdentities', identityName)
      principalId: identity.outputs.principalId
      readRoleDefinitionId: foundryReadRoleDefinitionId
      remediationRoleDefinitionId: foundryRemediationRoleDefinitionId
    }
  }
]

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    workspaceId: monitoring.outputs.workspaceId
    keyVaultName: keyVault.outputs.name
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    monitor: {
      // FOUNDRY_PROJECTS is strict: only the fields the app knows, never the ARM ID.
      foundryProjects: [
        for p in foundryProjects: {
          name: p.name
          endpoint: p.endpoint
          api: p.?api ?? 'both'
          discovery: p.?discovery ?? false
        }
      ]
      pollIntervalSeconds: pollIntervalSeconds
      shardCount: shardCount
      pollConcurrency: pollConcurrency
      foundryRateLimitPerSecond: foundryRateLimitPerSecond
      foundryTimeoutMs: foundryTimeoutMs
      maxActiveRunsPerProject: maxActiveRunsPerProject
      historyRetentionDays: historyRetentionDays
      discoverySchedule: discoverySchedule
      discoveryMaxThreads: discoveryMaxThreads
      discoveryLookbackMinutes: discoveryLookbackMinutes
      policies: monitorPolicies
      escalationTopic: serviceBus.outputs.topicName
      ticketsSubscription: serviceBus.outputs.ticketsSubscriptionName
      ticketSinks: ticketSinks
      ticketGrouping: ticketGrouping
      dashboardBaseUrl: empty(dashboardBaseUrl) ? 'https://${functionAppName}.azurewebsites.net' : dashboardBaseUrl
    }
    ticketSinkSecrets: ticketSinkSecrets
  }
  // The host must be able to reach storage the moment it starts.
  dependsOn: [roles]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: 'run-monitor-${resourceToken}'
    appInsightsId: monitoring.outputs.appInsightsId
    serviceBusNamespaceId: serviceBus.outputs.id
    actionGroupId: actionGroupId
    failedRunsPerAgentThreshold: failedRunsPerAgentThreshold
    stalledRunsThreshold: stalledRunsThreshold
  }
}

// azd reads these into the environment; `run-monitor doctor` uses them to find the deployment.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.appInsightsConnectionString
