// The monitor's storage account: Functions host state, the deployment package, the run store
// (tables) and the work queues. Keys are disabled: every client (host, app, azd deploy) uses Entra ID.

import { tagsType } from '../types.bicep'

@description('Storage account name (3–24 lower-case letters and digits)')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region')
param location string

@description('Tags for the account')
param tags tagsType

@description('Blob container the Flex Consumption app is deployed from')
param deploymentContainerName string

@description('Log Analytics workspace that receives diagnostics')
param workspaceId string

@description('Send every table and queue request to Log Analytics. Off by default: at 1k active runs that is tens of millions of records a month (see docs/deploy.md, cost); metrics are always on.')
param tableAndQueueRequestLogs bool = false

// Tables the app uses (names = MONITOR_TABLES in shared/doctor/probes.ts; a test compares): run
// heads + transitions + outbox, the active-run index swept every interval, lookups by
// thread/session/agent, the ticket ledger, and the insights aggregates / remediation ledger.
var tableNames = [
  'monitorruns'
  'monitoractive'
  'monitorlookup'
  'monitortickets'
  'monitorinsights'
]

// Queues the app triggers on. The host creates `<name>-poison` itself on the first poison message.
var queueNames = [
  'run-registrations'
  'poll-shards'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

// The account itself only has metrics; request logs live on each service. Blob logs (deployment
// package, host leases) are few and kept; table/queue request logs are opt-in for their volume.
resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: workspaceId
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: workspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: workspaceId
    logs: tableAndQueueRequestLogs ? [{ categoryGroup: 'allLogs', enabled: true }] : []
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: workspaceId
    logs: tableAndQueueRequestLogs ? [{ categoryGroup: 'allLogs', enabled: true }] : []
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output tableNames string[] = [for (t, i) in tableNames: tables[i].name]
output queueNames string[] = [for (q, i) in queueNames: queues[i].name]
