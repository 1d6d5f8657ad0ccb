// Alert rules for SREs. Log alerts query the app's custom events/metrics by the names in
// infra/telemetry-names.json (the contract with shared/telemetry); the dead-letter alert reads the
// Service Bus platform metric. All fire into one action group, or nowhere when none is given
// (rules still show in the portal's alert list).

import { tagsType } from '../types.bicep'

@description('Azure region of the Application Insights component')
param location string

@description('Tags for the rules')
param tags tagsType

@description('Name prefix of the rules')
param namePrefix string

@description('Application Insights component the log alerts query')
param appInsightsId string

@description('Service Bus namespace whose dead-letter queues are watched')
param serviceBusNamespaceId string

@description('Action group resource ID; empty = rules without actions')
param actionGroupId string

@description('Failed or expired runs of one agent within 15 minutes that raise an alert')
@minValue(1)
param failedRunsPerAgentThreshold int

@description('Stalled runs of one project within 15 minutes that raise an alert')
@minValue(1)
param stalledRunsThreshold int

var logAlertActions = { actionGroups: empty(actionGroupId) ? [] : [actionGroupId] }
var metricAlertActions = empty(actionGroupId) ? [] : [{ actionGroupId: actionGroupId }]
var everyPeriodFails = { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }

resource failedRuns 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-failed-runs-per-agent'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Foundry runs failing or expiring (per agent)'
    description: 'More than the threshold of failed/expired escalations for one agent in 15 minutes.'
    severity: 2
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [appInsightsId]
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'customEvents\n| where name == "RunEscalated"\n| extend reason = tostring(customDimensions.reason), agentId = tostring(customDimensions.agentId), project = tostring(customDimensions.project)\n| where reason in ("failed", "expired")\n| project timestamp, project, agentId'
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: failedRunsPerAgentThreshold
          dimensions: [
            { name: 'project', operator: 'Include', values: ['*'] }
            { name: 'agentId', operator: 'Include', values: ['*'] }
          ]
          failingPeriods: everyPeriodFails
        }
      ]
    }
    actions: logAlertActions
  }
}

resource stalledRuns 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-stalled-runs'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Foundry runs stalled'
    description: 'Runs escalated as stalled (queued, in progress, requires action or cancelling too long).'
    severity: 2
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [appInsightsId]
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'customEvents\n| where name == "RunEscalated"\n| extend reason = tostring(customDimensions.reason), project = tostring(customDimensions.project)\n| where reason startswith "stalled"\n| project timestamp, project, reason'
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: stalledRunsThreshold
          dimensions: [
            { name: 'project', operator: 'Include', values: ['*'] }
            { name: 'reason', operator: 'Include', values: ['*'] }
          ]
          failingPeriods: everyPeriodFails
        }
      ]
    }
    actions: logAlertActions
  }
}

resource monitorDegraded 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-monitor-degraded'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Run monitor degraded'
    description: 'Foundry reads fail or are throttled: detection is unreliable (no stalls are invented meanwhile).'
    severity: 1
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [appInsightsId]
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'customEvents\n| where name == "MonitorDegraded"\n| extend project = tostring(customDimensions.project), cause = tostring(customDimensions.cause)\n| project timestamp, project, cause'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [{ name: 'project', operator: 'Include', values: ['*'] }]
          failingPeriods: everyPeriodFails
        }
      ]
    }
    actions: logAlertActions
  }
}

resource monitorSilent 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-monitor-silent'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Run monitor silent'
    description: 'No ActiveRuns gauge for 15 minutes: sweeps are not running (the gauge is sent every sweep, even at 0).'
    severity: 1
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [appInsightsId]
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'customMetrics\n| where name == "ActiveRuns"\n| project timestamp, value'
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: everyPeriodFails
        }
      ]
    }
    actions: logAlertActions
  }
}

resource ticketSinkFailed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-ticket-sink-failed'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Ticket sink failing'
    description: 'A ticket sink rejected or timed out after retries; escalations wait in the tickets subscription.'
    severity: 2
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [appInsightsId]
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'customEvents\n| where name == "TicketSinkFailed"\n| extend sink = tostring(customDimensions.sink)\n| project timestamp, sink'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [{ name: 'sink', operator: 'Include', values: ['*'] }]
          failingPeriods: everyPeriodFails
        }
      ]
    }
    actions: logAlertActions
  }
}

resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-lettered-messages'
  location: 'global'
  tags: tags
  properties: {
    description: 'Escalations in a dead-letter queue: a consumer gave up on them (see `run-monitor dlq`).'
    severity: 2
    enabled: true
    scopes: [serviceBusNamespaceId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-lettered'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [{ name: 'EntityName', operator: 'Include', values: ['*'] }]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: metricAlertActions
  }
}

output ruleIds string[] = [
  failedRuns.id
  stalledRuns.id
  monitorDegraded.id
  monitorSilent.id
  ticketSinkFailed.id
  deadLettered.id
]
