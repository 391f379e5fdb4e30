// The custom handler on Flex Consumption (FC1, runtime custom 1.0) with a user-assigned identity
// that already holds its roles (identity.bicep, access.bicep): the deployment package, host
// storage, Application Insights, Event Hubs and the Key Vault reference all use it, as Microsoft's
// Flex samples do (Azure-Samples/functions-quickstart-dotnet-azd-eventhub, infra/app/api.bicep).
// Every app setting the handler reads is set here from a parameter; infra/check compares the
// names with internal/config. Settings with an empty value are left out, so the handler's own
// defaults apply.

param location string
param tags object
param planName string
param appName string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param instanceMemoryMB int
param maximumInstanceCount int
param eventHubNamespaceFqdn string
param eventHubName string
param openskySchedule string
param openskyBbox string
param openskyIcao24 string
param openskyExtended bool
param openskyAccount string
param openskyClientId string
param openskyClientSecretUri string
param logLevel string
param identityId string
param identityClientId string
param logAnalyticsWorkspaceId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

// Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION as app
// settings: the runtime is functionAppConfig.runtime below.
var appSettings = [
  // Functions host storage by identity (blob and table roles in access.bicep): with a
  // user-assigned identity the host needs its client id as well as credential=managedidentity.
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storage.name
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsights.properties.ConnectionString
  }
  // Application Insights has local auth off: the host sends telemetry as the user-assigned identity.
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  // The handler's Event Hubs credential (azidentity) picks the user-assigned identity by this id.
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'OPENSKY_SCHEDULE'
    value: openskySchedule
  }
  {
    name: 'OPENSKY_BBOX'
    value: openskyBbox
  }
  {
    name: 'OPENSKY_ICAO24'
    value: openskyIcao24
  }
  {
    name: 'OPENSKY_EXTENDED'
    value: openskyExtended ? 'true' : 'false'
  }
  {
    name: 'OPENSKY_ACCOUNT'
    value: openskyAccount
  }
  {
    name: 'OPENSKY_CLIENT_ID'
    value: openskyClientId
  }
  // With a client id the handler needs the secret too. The platform resolves this Key Vault
  // reference with keyVaultReferenceIdentity (below) before the handler starts; the URI is
  // versionless, so a new secret version reaches the app within 24 hours or on the next restart.
  {
    name: 'OPENSKY_CLIENT_SECRET'
    value: empty(openskyClientId) ? '' : '@Microsoft.KeyVault(SecretUri=${openskyClientSecretUri})'
  }
  {
    name: 'OPENSKY_SINK'
    value: 'eventhub'
  }
  {
    name: 'EVENTHUB_NAMESPACE'
    value: eventHubNamespaceFqdn
  }
  {
    name: 'EVENTHUB_NAME'
    value: eventHubName
  }
  {
    name: 'LOG_LEVEL'
    value: logLevel
  }
  // The memory the handler may use: the instance's, less what the Functions host keeps. A snapshot
  // larger than that fails its tick with a message instead of the instance running out of memory.
  {
    name: 'HANDLER_MEMORY_MB'
    value: string(instanceMemoryMB - 256)
  }
]

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'handler' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity, not a (missing) system one.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: filter(appSettings, setting => !empty(setting.value))
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      // 'custom' 1.0 is the version Flex Consumption lists for custom handlers (az functionapp
      // list-flexconsumption-runtimes, Get-AzFunctionAppFlexConsumptionRuntime; see docs/NOTES.md).
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// No basic-auth (user name and password) publishing: azd and az deploy with Microsoft Entra tokens.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

// The host's own logs (FunctionAppLogs) and platform metrics, next to Application Insights.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

output name string = app.name
output id string = app.id
output defaultHostName string = app.properties.defaultHostName
