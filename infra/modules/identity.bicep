// The monitor's one identity. User-assigned so role assignments exist before the app first starts
// (a system-assigned identity is born with the app, and the host would fail its first storage calls
// while RBAC propagates) and so the same client ID can be named in app settings.

import { tagsType } from '../types.bicep'

@description('Name of the user-assigned managed identity')
param name string

@description('Azure region')
param location string

@description('Tags for the identity')
param tags tagsType

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
