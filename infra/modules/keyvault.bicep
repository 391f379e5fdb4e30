// Key Vault (Azure RBAC, no access policies) holding the OpenSky client secret. The secret is
// written only when one is given (a later deployment without it keeps the stored one); the
// Function App reads it through a Key Vault reference in its app settings, with Key Vault Secrets
// User on this vault (access.bicep).
//
// Purge protection stays off on purpose: the vault holds one secret the user can always issue
// again at OpenSky, and with purge protection `azd down --purge` could not free the vault's name,
// so a re-deploy of the same environment would be blocked for the whole retention period.
// Soft delete (always on) keeps a deleted vault recoverable for softDeleteRetentionInDays;
// scripts/preprovision.sh recovers it when `azd down` was run without --purge.

param location string
param tags object
param name string
param logAnalyticsWorkspaceId string

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

// Who read the secret, and when (AuditEvent), in the Log Analytics workspace.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
// Versionless and ending in a slash, the form the Key Vault reference docs show
// (https://myvault.vault.azure.net/secrets/mysecret/), so a new secret version reaches the app
// without a redeploy. vaultUri ends in a slash already. Nothing here depends on the secret's
// value: the app references the secret when it has an OpenSky client id.
output openskyClientSecretUri string = '${vault.properties.vaultUri}secrets/${secretName}/'
