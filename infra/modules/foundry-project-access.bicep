// Deployed at the resource group of one Foundry project (which may differ from the monitor's):
// lets the monitor's identity read that project's agent runs, and optionally act on them.

@description('Foundry (AI Services) account name')
param accountName string

@description('Project name inside the account')
param projectName string

@description('Resource ID of the monitor identity (names the assignments before it exists)')
param identityResourceId string

@description('Principal ID of the monitor identity')
param principalId string

@description('Role that lets the monitor read runs (default: Azure AI User)')
param readRoleDefinitionId string

@description('Optional role for remediation (cancelling or re-creating runs); empty = not assigned')
param remediationRoleDefinitionId string

resource account 'Microsoft.CognitiveServices/accounts@2025-06-01' existing = {
  name: accountName
}

resource project 'Microsoft.CognitiveServices/accounts/projects@2025-06-01' existing = {
  parent: account
  name: projectName
}

// poll-shard / discovery: GET threads/{t}/runs/{r} (+ steps) and GET responses/{id} on this project.
resource readRuns 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(project.id, identityResourceId, readRoleDefinitionId)
  scope: project
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readRoleDefinitionId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'foundry-run-monitor: read agent runs (poll-shard, discovery)'
  }
}

// Remediation (cancel a stuck run, re-create it) — off unless the deployer opts in.
resource remediateRuns 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(remediationRoleDefinitionId)) {
  name: guid(project.id, identityResourceId, remediationRoleDefinitionId, 'remediation')
  scope: project
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', remediationRoleDefinitionId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'foundry-run-monitor: remediate runs (cancel / re-create), opted in'
  }
}
