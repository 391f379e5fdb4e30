// The whole OpenSky -> Event Hubs -> Stream Analytics -> Power BI pipeline in one resource group.
//
// Deploy with `make deploy` (azd up, reads main.parameters.json) or with
//   az deployment group create -g <group> -f infra/main.bicep -p environmentName=<name> [more params]
// docs/DEPLOY.md explains every parameter and the steps that are not ARM resources (the Power BI
// workspace grant and starting the Stream Analytics job). infra/check tests this file and its modules.
//
// Order that matters: the Function App's user-assigned identity and all its role assignments
// (identity, access) exist before the site (functionApp dependsOn access), so the site's Key Vault
// reference, deployment package and host storage resolve on its first start.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Naming and placement
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd sets it from AZURE_ENV_NAME). Tags every resource and seeds the unique resource names.')
param environmentName string

@description('Azure region for every resource. It must offer Flex Consumption (az functionapp list-flexconsumption-locations) and Stream Analytics.')
param location string = resourceGroup().location

@description('Extra tags for every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// The handler's app settings
// ---------------------------------------------------------------------------------------------

@description('OPENSKY_SCHEDULE: 6-field NCRONTAB schedule of the timer. The default, every 15 minutes, keeps an anonymous caller asking for the whole world (4 credits a call) under 400 credits a day.')
param openskySchedule string = '0 */15 * * * *'

@minValue(1)
@maxValue(1440)
@description('The shortest interval of openskySchedule in whole minutes (rounded up). azd\'s preprovision hook sets it from the schedule (scripts/deploycheck); the "no events reach the hub" alert waits three intervals.')
param openskyIntervalMinutes int = 15

@minValue(0)
@description('OpenSky credits the schedule spends a day (calls a day x the price of one call for openskyBbox). azd\'s preprovision hook sets it from the schedule and box (scripts/deploycheck); the "credits low" alert fires only below what the schedule should leave at the end of a day, so that a schedule planned to use most of the credits does not alert every day.')
param openskyCreditsPerDay int = 384

@description('OPENSKY_BBOX: lamin,lomin,lamax,lomax in degrees (e.g. 45.8,5.9,47.8,10.5); empty asks for the whole world.')
param openskyBbox string = ''

@description('OPENSKY_ICAO24: comma-separated transponder addresses to follow; empty follows every aircraft.')
param openskyIcao24 string = ''

@description('OPENSKY_EXTENDED: ask OpenSky for the aircraft category too.')
param openskyExtended bool = false

@description('OPENSKY_CLIENT_ID: OpenSky API client id. Empty calls OpenSky anonymously (400 credits a day per IP).')
param openskyClientId string = ''

@secure()
@description('OpenSky API client secret. Stored in Key Vault; the app reads it through a Key Vault reference. Give it together with openskyClientId.')
param openskyClientSecret string = ''

@allowed([
  ''
  'anonymous'
  'standard'
  'feeder'
])
@description('OPENSKY_ACCOUNT: the kind of OpenSky account, which sets the daily credit budget the handler plans with. Empty lets the handler infer it.')
param openskyAccount string = ''

@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
@description('LOG_LEVEL of the handler.')
param logLevel string = 'info'

// ---------------------------------------------------------------------------------------------
// Sizing
// ---------------------------------------------------------------------------------------------

@minValue(1)
@maxValue(40)
@description('Event Hubs Standard throughput units (1 TU = 1 MB/s or 1,000 events/s in).')
param eventHubCapacity int = 1

@minValue(1)
@maxValue(32)
@description('Partitions of the opensky hub. Fixed once the hub exists on Standard.')
param eventHubPartitionCount int = 2

@allowed([
  512
  2048
  4096
])
@description('Memory of each Flex Consumption instance in MB.')
param functionInstanceMemoryMB int = 512

@minValue(40)
@maxValue(1000)
@description('Most Flex Consumption instances the app may scale to. A timer runs one invocation at a time, so the app never comes near it; 40 was the lowest value Flex Consumption accepted when this was written.')
param functionMaximumInstanceCount int = 40

@allowed([
  3
  7
  10
  20
  30
])
@description('Stream Analytics streaming units as the REST API counts them: 3 = 1/3 SU V2, 7 = 2/3 SU V2, 10 = 1 SU V2.')
param streamingUnits int = 3

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps the Functions logs.')
param logRetentionDays int = 30

// ---------------------------------------------------------------------------------------------
// Analytics
// ---------------------------------------------------------------------------------------------

@allowed([
  'powerbi'
  'adx'
  'both'
])
@description('Analytics: adx (Azure Data Explorer reads the hub: table, dedupe, live functions, dashboard), powerbi (the Stream Analytics job writes outputs 1-3 to Power BI, or to Blob storage without a workspace; the Power BI output stops on 2027-10-31), or both while moving. The Blob archive is written in every case. docs/ANALYTICS.md compares them.')
param analytics string = 'adx'

// The same list as modules/adx.bicep's skuName (infra/check holds this one inside that one), so a
// wrong ADX_SKU is refused here, before anything is deployed.
@allowed([
  'Dev(No SLA)_Standard_E2a_v4'
  'Standard_E2ads_v5'
  'Standard_E4ads_v5'
  'Standard_E8ads_v5'
  'Standard_E16ads_v5'
  'Standard_E2d_v5'
  'Standard_E4d_v5'
  'Standard_E8d_v5'
  'Standard_E16d_v5'
  'Standard_E2a_v4'
  'Standard_E4a_v4'
  'Standard_E8a_v4'
  'Standard_E16a_v4'
  'Standard_L8as_v3'
  'Standard_L16as_v3'
])
@description('Azure Data Explorer SKU (analytics adx or both): Dev(No SLA) is one node without an SLA; the others are production SKUs and need adxSkuCapacity 2 or more.')
param adxSkuName string = 'Dev(No SLA)_Standard_E2a_v4'

// The engine of a production SKU needs at least two instances (MicrosoftDocs/dataexplorer-docs,
// data-explorer/pricing-calculator.md); a Dev(No SLA) cluster has one. The default follows the
// SKU, so ADX_SKU alone is enough to move to a production SKU.
@minValue(1)
@maxValue(1000)
@description('Azure Data Explorer instances: 1 for a Dev SKU, 2 or more for production (the default follows adxSkuName).')
param adxSkuCapacity int = startsWith(adxSkuName, 'Dev(No SLA)') ? 1 : 2

@description('A user (e-mail), application (client id) or security group (name) who may query the Data Explorer database and use the dashboard. Empty grants no one.')
param adxViewer string = ''

// Microsoft.Kusto principal assignments need the principal's kind with its id: an application id
// or a group name given as a User does not resolve (bicep-types-az generated/azure-kusto/
// microsoft.kusto/2024-04-13 DatabasePrincipalProperties; dataexplorer-docs add-database-principal.md).
@allowed([
  'User'
  'Group'
  'App'
])
@description('What adxViewer is: User (an e-mail), App (an application client id) or Group (a security group name).')
param adxViewerType string = 'User'


@description('Power BI workspace (group) id the Stream Analytics job writes to. Empty turns Power BI off.')
param powerBiWorkspaceId string = ''

@description('Write outputs 1-3 to Power BI. Off: they go to Blob storage as JSON lines next to the archive. Power BI outputs stop working on 2027-10-31.')
param enablePowerBi bool = !empty(powerBiWorkspaceId)

@description('Prefix of the three Power BI datasets (<prefix>-live, <prefix>-countries, <prefix>-emergencies).')
param powerBiDatasetPrefix string = 'opensky'

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

@description('E-mail address the alerts go to. Empty creates no action group: the alerts still fire and show in the portal (Monitor, Alerts).')
param alertEmail string = ''

@description('Object id of the user or service principal running the deployment (azd sets it from AZURE_PRINCIPAL_ID). It gets Event Hubs Data Receiver on the hub and Storage Blob Data Reader on the archive, to read events back. Empty grants nothing.')
param deployerPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
@description('Kind of deployerPrincipalId (azd sets it from AZURE_PRINCIPAL_TYPE).')
param deployerPrincipalType string = 'User'

// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var allTags = union(tags, { 'azd-env-name': environmentName })
var eventHubName = 'opensky'
var streamAnalyticsConsumerGroup = 'streamanalytics'
var deploymentContainerName = 'app-package'
var archiveContainerName = 'archive'
var powerBiOn = enablePowerBi && analytics != 'adx'
// The credits alert's threshold: a tenth of the daily budget, as the handler's own warning
// (anonymous 400, standard 4,000, feeder 8,000; a client id without an account kind is standard),
// but never above what the schedule leaves unspent at the end of a day. The default schedule spends
// 384 of an anonymous caller's 400 credits, so a tenth (40) would be passed every evening and the
// alert would fire every day; below 16 credits left, something else spends them (anonymous credits
// are counted per IP, and a Function App shares its outbound addresses) and ticks will soon fail.
var dailyCredits = openskyAccount == 'feeder' ? 8000 : (openskyAccount == 'standard' || (openskyAccount == '' && !empty(openskyClientId))) ? 4000 : 400
var spareCredits = dailyCredits - openskyCreditsPerDay
var lowCreditsThreshold = spareCredits > 0 ? min(dailyCredits / 10, spareCredits) : dailyCredits / 10

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: allTags
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    retentionInDays: logRetentionDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: allTags
    name: 'st${resourceToken}'
    containerNames: [
      deploymentContainerName
      archiveContainerName
    ]
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    location: location
    tags: allTags
    namespaceName: 'evhns-${resourceToken}'
    eventHubName: eventHubName
    capacity: eventHubCapacity
    partitionCount: eventHubPartitionCount
    consumerGroupName: streamAnalyticsConsumerGroup
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: allTags
    name: 'kv-${resourceToken}'
    openskyClientSecret: openskyClientSecret
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

// The Function App's identity, created (and granted its roles in access) before the site.
module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    tags: allTags
    name: 'id-func-${resourceToken}'
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  // Every role of the app's identity is in place before the site exists.
  dependsOn: [
    access
  ]
  params: {
    location: location
    tags: allTags
    planName: 'plan-${resourceToken}'
    appName: 'func-${resourceToken}'
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    eventHubNamespaceFqdn: eventHubs.outputs.namespaceFqdn
    eventHubName: eventHubName
    openskySchedule: openskySchedule
    openskyBbox: openskyBbox
    openskyIcao24: openskyIcao24
    openskyExtended: openskyExtended
    openskyAccount: openskyAccount
    openskyClientId: openskyClientId
    openskyClientSecretUri: keyVault.outputs.openskyClientSecretUri
    logLevel: logLevel
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module streamAnalytics 'modules/streamanalytics.bicep' = {
  name: 'streamanalytics'
  params: {
    location: location
    tags: allTags
    name: 'asa-${resourceToken}'
    streamingUnits: streamingUnits
    eventHubNamespaceName: eventHubs.outputs.namespaceName
    eventHubName: eventHubName
    consumerGroupName: streamAnalyticsConsumerGroup
    storageAccountName: storage.outputs.name
    archiveContainerName: archiveContainerName
    enablePowerBi: powerBiOn
    powerBiWorkspaceId: powerBiWorkspaceId
    powerBiDatasetPrefix: powerBiDatasetPrefix
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

// Azure Data Explorer (analytics 'adx' or 'both'): its own consumer group on the hub, read with the
// cluster's identity; the database script (infra/adx/schema.kql) makes the table, dedupe and outputs.
var adxOn = analytics != 'powerbi'
module adx 'modules/adx.bicep' = if (adxOn) {
  name: 'adx'
  params: {
    location: location
    tags: allTags
    clusterName: 'adx${resourceToken}'
    skuName: adxSkuName
    skuCapacity: adxSkuCapacity
    eventHubNamespaceName: eventHubs.outputs.namespaceName
    eventHubName: eventHubs.outputs.eventHubName
    consumerGroupName: 'adx'
    principalId: adxViewer
    principalType: adxViewerType
  }
}

// Every role assignment of the pipeline, in one place.
module access 'modules/access.bicep' = {
  name: 'access'
  params: {
    functionAppPrincipalId: identity.outputs.principalId
    streamAnalyticsPrincipalId: streamAnalytics.outputs.principalId
    eventHubNamespaceName: eventHubs.outputs.namespaceName
    eventHubName: eventHubName
    storageAccountName: storage.outputs.name
    archiveContainerName: archiveContainerName
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
  }
}

// Alerts on every stage, the action group that e-mails them, and the pipeline workbook.
module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    tags: allTags
    namePrefix: 'opensky-${resourceToken}'
    alertEmail: alertEmail
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    streamAnalyticsJobId: streamAnalytics.outputs.id
    intervalMinutes: openskyIntervalMinutes
    lowCreditsThreshold: lowCreditsThreshold
  }
}

// azd stores these in .azure/<env>/.env; scripts/ reads them.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output EVENTHUB_NAMESPACE string = eventHubs.outputs.namespaceFqdn
output EVENTHUB_NAME string = eventHubName
output STREAM_ANALYTICS_JOB_NAME string = streamAnalytics.outputs.name
output STREAM_ANALYTICS_PRINCIPAL_ID string = streamAnalytics.outputs.principalId
output POWERBI_ENABLED bool = powerBiOn
output POWERBI_WORKSPACE_ID string = powerBiWorkspaceId
output ARCHIVE_STORAGE_ACCOUNT string = storage.outputs.name
output ARCHIVE_CONTAINER string = archiveContainerName
output KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output LOG_ANALYTICS_NAME string = monitoring.outputs.logAnalyticsName
output FUNCTION_APP_IDENTITY_NAME string = identity.outputs.name
output ALERT_EMAIL_ENABLED bool = alerts.outputs.actionGroupEnabled
output WORKBOOK_ID string = alerts.outputs.workbookId
output ADX_CLUSTER_URI string = adxOn ? adx.outputs.clusterUri : ''
output ADX_DATABASE string = adxOn ? adx.outputs.databaseName : ''
