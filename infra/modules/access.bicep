// Every role assignment of the pipeline, each the narrowest built-in role on the narrowest scope.
// The Function App's roles go to its user-assigned identity (identity.bicep) and main.bicep
// creates the site only after this module, so the app starts with every role in place.
//
//   Function App   Azure Event Hubs Data Sender     the opensky hub
//   Function App   Storage Blob Data Owner          the storage account (host state, deployment package)
//   Function App   Storage Table Data Contributor   the storage account (host diagnostic events)
//   Function App   Key Vault Secrets User           the vault (the OpenSky client secret reference)
//   Function App   Monitoring Metrics Publisher     Application Insights (local auth is off)
//   Stream Analytics  Azure Event Hubs Data Receiver  the opensky hub
//   Stream Analytics  Storage Blob Data Contributor   the archive container
//   Deployer       Azure Event Hubs Data Receiver   the opensky hub (read events back: handler tail)
//   Deployer       Storage Blob Data Reader         the archive container (read the archive)
//
// The deployer is the user (or CI service principal) running azd: azd fills AZURE_PRINCIPAL_ID
// and AZURE_PRINCIPAL_TYPE in main.parameters.json. Empty skips the deployer's two roles.
//
// A timer app needs no queue role. Power BI access for the job is not an Azure role: it is a Power
// BI workspace grant (scripts/grant-powerbi.sh).

param functionAppPrincipalId string
param streamAnalyticsPrincipalId string
param eventHubNamespaceName string
param eventHubName string
param storageAccountName string
param archiveContainerName string
param keyVaultName string
param applicationInsightsName string
param deployerPrincipalId string
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string

// Built-in role definition ids (the same in every tenant). infra/check checks them by name.
var role = {
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: eventHubName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource archiveContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: archiveContainerName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource appSendsEvents 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, functionAppPrincipalId, role.eventHubsDataSender)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.eventHubsDataSender)
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appOwnsHostBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionAppPrincipalId, role.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.storageBlobDataOwner)
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appWritesHostTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionAppPrincipalId, role.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.storageTableDataContributor)
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionAppPrincipalId, role.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.keyVaultSecretsUser)
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appPublishesTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionAppPrincipalId, role.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.monitoringMetricsPublisher)
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobReadsEvents 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, streamAnalyticsPrincipalId, role.eventHubsDataReceiver)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.eventHubsDataReceiver)
    principalId: streamAnalyticsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobWritesArchive 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(archiveContainer.id, streamAnalyticsPrincipalId, role.storageBlobDataContributor)
  scope: archiveContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.storageBlobDataContributor)
    principalId: streamAnalyticsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerReadsEvents 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(hub.id, deployerPrincipalId, role.eventHubsDataReceiver)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.eventHubsDataReceiver)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource deployerReadsArchive 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(archiveContainer.id, deployerPrincipalId, role.storageBlobDataReader)
  scope: archiveContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.storageBlobDataReader)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

