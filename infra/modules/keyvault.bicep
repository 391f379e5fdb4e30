// Key Vault (Azure RBAC, no access policies) holding the OpenSky client secret. The secret is
// written only when one is given (a later deployment without it keeps the stored one); the
// Function App reads it through a Key Vault reference in its app settings, with Key Vault Secrets
// User on this vault (access.bicep).

param location string
param tags object
param name string

@secure()
param openskyClientSecret string

var secretName = 'opensky-client-secret'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource openskySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(openskyClientSecret)) {
  parent: vault
  name: secretName
  properties: {
    value: openskyClientSecret
    contentType: 'OpenSky API client secret'
  }
}

output name string = vault.name
// Versionless, so a new secret version reaches the app without a redeploy. Nothing here depends on
// the secret's value: the app references the secret when it has an OpenSky client id.
output openskyClientSecretUri string = '${vault.properties.vaultUri}secrets/${secretName}'
