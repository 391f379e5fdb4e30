// Azure Data Explorer analytics: a cluster, a database shaped by infra/adx/schema.kql, and an Event
// Hubs data connection that reads the opensky hub with the cluster's system-assigned identity
// through a consumer group of its own. No key anywhere: the hub's namespace has local auth off.
//
// Order matters in two places, and ARM only knows what dependsOn tells it:
//   1. The data connection is validated when it is created: the table and mapping must exist (the
//      schema script) and the cluster's identity must already hold Azure Event Hubs Data Receiver on
//      the hub. A role assignment created in the same deployment is the same race as a Key Vault
//      reference resolved before its grant exists, so the connection depends on the grant explicitly.
//   2. The managed identity policy that lets the cluster's identity be used by data connections is a
//      database policy, set by a second script after the schema.
//
// docs/ANALYTICS.md explains the choice between this and the Power BI outputs, the costs, and the
// manual dashboard import (infra/adx/dashboard.json). infra/adx/test checks the KQL offline.

@description('Azure region of the cluster. Put it in the region of the Event Hubs namespace: a data connection across regions is slower and pays for egress.')
param location string

@description('Tags for the cluster.')
param tags object = {}

@minLength(4)
@maxLength(22)
@description('Cluster name: 4-22 lower-case letters and digits, starting with a letter; unique in the region (it becomes https://<name>.<region>.kusto.windows.net).')
param clusterName string

// The SKU names are the generated types' list for Microsoft.Kusto/clusters@2024-04-13 (AzureSku.name),
// narrowed to the compute and storage optimized series Microsoft ranks first for new clusters.
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
@description('Cluster SKU. The default Dev(No SLA) SKU is one node with no SLA and no Azure Data Explorer markup: the cheapest way to run this pipeline. Production SKUs need skuCapacity 2 or more.')
param skuName string = 'Dev(No SLA)_Standard_E2a_v4'

@minValue(1)
@maxValue(1000)
@description('Instances of the cluster. A Dev(No SLA) SKU takes exactly 1; a production SKU at least 2.')
param skuCapacity int = 1

@minLength(1)
@maxLength(260)
@description('Name of the database that holds the events, the deduplicated view and the dashboard functions.')
param databaseName string = 'opensky'

@description('Retention: how long the database keeps data before it can no longer be queried (ISO 8601 duration, e.g. P31D, P365D).')
param softDeletePeriod string = 'P31D'

@description('Hot cache: how much of the newest data is kept on the nodes\' SSDs for fast queries (ISO 8601 duration, at most softDeletePeriod).')
param hotCachePeriod string = 'P7D'

@description('Name of the existing Event Hubs namespace the handler publishes to.')
param eventHubNamespaceName string

@description('Name of the existing hub in that namespace.')
param eventHubName string

@minLength(1)
@maxLength(50)
@description('Consumer group the data connection reads through; created here. Every reader needs its own: Microsoft requires a dedicated one per Azure Data Explorer data connection.')
param consumerGroupName string = 'adx'

@description('A user (email), application (client id) or security group (name) to grant access to the database, e.g. the deploying user so they can query and use the dashboard. Empty grants nothing.')
param principalId string = ''

@allowed([
  'User'
  'Group'
  'App'
])
@description('What principalId is.')
param principalType string = 'User'

@allowed([
  'Viewer'
  'Admin'
])
@description('Database role for principalId: Viewer can query and use the dashboard; Admin can also change the schema.')
param principalRole string = 'Viewer'

// The table and mapping the data connection writes through; both are created by infra/adx/schema.kql
// (infra/adx/test checks that these names match the script).
var tableName = 'OpenSkyEvents'
var mappingName = 'OpenSkyEventsMapping'

// Built-in role definition id (the same in every tenant).
var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: eventHubName
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: hub
  name: consumerGroupName
}

resource cluster 'Microsoft.Kusto/clusters@2024-04-13' = {
  name: clusterName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: startsWith(skuName, 'Dev(No SLA)') ? 'Basic' : 'Standard'
    capacity: skuCapacity
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    engineType: 'V3'
    publicNetworkAccess: 'Enabled'
    // Queued ingestion batches events (default: up to 5 minutes); the timer publishes every 15
    // minutes, so streaming ingestion would cost memory for nothing.
    enableStreamingIngest: false
    enablePurge: false
    // A cluster with no queries and no ingestion for days stops itself instead of billing.
    enableAutoStop: true
  }
}

resource database 'Microsoft.Kusto/clusters/databases@2024-04-13' = {
  parent: cluster
  name: databaseName
  location: location
  kind: 'ReadWrite'
  properties: {
    softDeletePeriod: softDeletePeriod
    hotCachePeriod: hotCachePeriod
  }
}

// The table, its JSON mapping, the deduplicated view and the dashboard functions. Without
// forceUpdateTag the script runs again only when its text changes; every command is idempotent.
resource schema 'Microsoft.Kusto/clusters/databases/scripts@2024-04-13' = {
  parent: database
  name: 'schema'
  properties: {
    scriptContent: loadTextContent('../adx/schema.kql')
    continueOnErrors: false
  }
}

// Lets data connections use the cluster's system-assigned identity in this database. It names the
// database, so it is not part of schema.kql (which a Fabric KQL database takes as it is).
resource identityPolicy 'Microsoft.Kusto/clusters/databases/scripts@2024-04-13' = {
  parent: database
  name: 'managed-identity-policy'
  properties: {
    scriptContent: replace(loadTextContent('../adx/managed-identity-policy.kql'), '{database}', databaseName)
    continueOnErrors: false
  }
  dependsOn: [
    schema
  ]
}

// The cluster reads the hub with its own identity. The name uses the cluster's id, not its
// principalId: a role assignment's name must be known when the deployment starts.
resource clusterReadsEvents 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, cluster.id, eventHubsDataReceiver)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver)
    principalId: cluster.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource eventConnection 'Microsoft.Kusto/clusters/databases/dataConnections@2024-04-13' = {
  parent: database
  name: 'opensky-events'
  location: location
  kind: 'EventHub'
  properties: {
    eventHubResourceId: hub.id
    consumerGroup: consumerGroup.name
    // For a system-assigned identity, the identity's resource id is the cluster's own id.
    managedIdentityResourceId: cluster.id
    tableName: tableName
    mappingRuleName: mappingName
    dataFormat: 'JSON'
    compression: 'None'
    databaseRouting: 'Single'
  }
  // The grant must exist before the connection is validated (see the top of this file), and so
  // must the table, the mapping and the identity policy.
  dependsOn: [
    clusterReadsEvents
    schema
    identityPolicy
  ]
}

resource principalAccess 'Microsoft.Kusto/clusters/databases/principalAssignments@2024-04-13' = if (!empty(principalId)) {
  parent: database
  name: guid(database.id, principalId, principalRole)
  properties: {
    principalId: principalId
    principalType: principalType
    role: principalRole
    tenantId: tenant().tenantId
  }
}

@description('The cluster\'s query URI, e.g. https://<name>.<region>.kusto.windows.net: the dashboard\'s data source.')
output clusterUri string = cluster.properties.uri

@description('The database name: the dashboard\'s data source database.')
output databaseName string = database.name

@description('Name of the cluster.')
output clusterName string = cluster.name
