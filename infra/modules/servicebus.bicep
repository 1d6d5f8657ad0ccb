// Escalations travel over one topic. The publisher sets messageId = `${runId}:${reason}:${episode}`
// and the topic's duplicate detection drops a re-publish after a crash between "sent" and
// "outbox marked"; each consumer gets its own subscription with its own dead-letter queue.

import { tagsType } from '../types.bicep'

@description('Service Bus namespace name (6–50 characters)')
param name string

@description('Azure region')
param location string

@description('Tags for the namespace')
param tags tagsType

@description('Topic escalations are published to (ESCALATION_TOPIC)')
param topicName string

@description('Subscription the open-ticket function listens on (TICKETS_SUBSCRIPTION)')
param ticketsSubscriptionName string

@description('Subscription on-call tooling reads; only high and critical escalations reach it')
param sreAlertsSubscriptionName string = 'sre-alerts'

@description('Deliveries before a message is dead-lettered')
@minValue(1)
@maxValue(100)
param maxDeliveryCount int = 10

@description('Log Analytics workspace that receives diagnostics')
param workspaceId string

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard is the lowest tier with topics; 256 KB per message is enough for one sanitized envelope.
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topicName
  properties: {
    requiresDuplicateDetection: true
    // Longer than the publisher's retry horizon, so a re-publish after a crash is dropped.
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    defaultMessageTimeToLive: 'P14D'
    maxSizeInMegabytes: 1024
    enableBatchedOperations: true
  }
}

resource ticketsSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: topic
  name: ticketsSubscriptionName
  properties: {
    // A ticket sink outage longer than the lock is retried by redelivery; the ledger makes it idempotent.
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    deadLetteringOnFilterEvaluationExceptions: true
    defaultMessageTimeToLive: 'P14D'
  }
}

resource sreAlertsSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: topic
  name: sreAlertsSubscriptionName
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    deadLetteringOnFilterEvaluationExceptions: true
    defaultMessageTimeToLive: 'P7D'
  }
}

// Replaces the subscription's implicit match-all `$Default` rule (a second rule would be OR-ed with
// it and let everything through). `severity` is an application property the publisher sets.
resource sreAlertsFilter 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = {
  parent: sreAlertsSubscription
  name: '$Default'
  properties: {
    filterType: 'SqlFilter'
    sqlFilter: {
      // Replayed dead letters (run-monitor dlq replay) carry replayTo: they must not page on-call twice.
      sqlExpression: 'severity IN (\'high\', \'critical\') AND replayTo IS NULL'
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: workspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output id string = namespace.id
output name string = namespace.name
// serviceBusEndpoint is `https://NAME.servicebus.windows.net:443/` (or a sovereign cloud's suffix).
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output topicName string = topic.name
output ticketsSubscriptionName string = ticketsSubscription.name
output sreAlertsSubscriptionName string = sreAlertsSubscription.name
