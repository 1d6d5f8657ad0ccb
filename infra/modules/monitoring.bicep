// Log Analytics workspace (every diagnostic setting lands here) and a workspace-based Application
// Insights component the app sends its events and metrics to.

import { tagsType } from '../types.bicep'

@description('Log Analytics workspace name')
param workspaceName string

@description('Application Insights component name')
param appInsightsName string

@description('Azure region')
param location string

@description('Tags for both resources')
param tags tagsType

@description('Days logs are kept in the workspace (30 is included in the ingestion price)')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    features: { enableLogAccessUsingOnlyResourcePermissions: true }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Entra ID ingestion only: the app authenticates with its managed identity (Monitoring Metrics
    // Publisher), so the instrumentation key in the connection string cannot be used to send data.
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

output workspaceId string = workspace.id
output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
output appInsightsConnectionString string = appInsights.properties.ConnectionString
