// The custom handler on Flex Consumption (FC1, runtime custom) with a system-assigned identity.
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
  // Functions host storage by identity: the account name alone makes the host use the app's
  // managed identity (blob and table roles in access.bicep).
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storage.name
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsights.properties.ConnectionString
  }
  // Application Insights has local auth off: send telemetry with the system-assigned identity.
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'Authorization=AAD'
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
  // With a client id the handler needs the secret too; it reads it from Key Vault at run time.
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
]

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'handler' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: filter(appSettings, setting => !empty(setting.value))
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

output name string = app.name
output principalId string = app.identity.principalId
output defaultHostName string = app.properties.defaultHostName
