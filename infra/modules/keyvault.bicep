// Secrets of ticket sinks (API tokens of the ticket desk). The app reads them only through Key
// Vault references in TICKET_SINKS-related settings, resolved by the host with the app's identity.

import { tagsType } from '../types.bicep'

@description('Key Vault name (3–24 characters)')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region')
param location string

@description('Tags for the vault')
param tags tagsType

@description('Log Analytics workspace that receives diagnostics')
param workspaceId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    // RBAC, not access policies: the app gets Key Vault Secrets User, nothing else.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection means a deleted vault's name stays reserved for 90 days (see docs/deploy.md, teardown).
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [{ categoryGroup: 'audit', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
