// The Function App's user-assigned managed identity. It exists, and holds every role the app needs
// (access.bicep), before the site is created: the site's Key Vault reference, its deployment
// package and its host storage all resolve on first start. A system-assigned identity would only
// exist once the site did, and the docs say an unresolved Key Vault reference is passed to the
// app as its literal text and fetched again only after a configuration change or 24 hours
// (MicrosoftDocs/azure-docs articles/app-service/app-service-key-vault-references.md).

param location string
param tags object
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
