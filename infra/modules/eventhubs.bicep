// Event Hubs Standard namespace with one hub. Local (SAS key) authentication is off: the Function
// App sends and Stream Analytics reads with their managed identities (roles in access.bicep).

param location string
param tags object
param namespaceName string
param eventHubName string
param capacity int
param partitionCount int
param consumerGroupName string
param logAnalyticsWorkspaceId string

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: capacity
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    isAutoInflateEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: eventHubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: 1
  }
}

// Stream Analytics reads through its own consumer group so that other readers (tests, a second
// job) can use $Default without stealing its checkpoints.
resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: hub
  name: consumerGroupName
}

// Operational and runtime audit logs (who sent, failed authorizations) and the namespace's metrics
// (IncomingMessages feeds the "no events reach the hub" alert and the workbook).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
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

output namespaceName string = namespace.name
output namespaceId string = namespace.id
// The handler wants the fully qualified namespace in EVENTHUB_NAMESPACE; serviceBusEndpoint is
// https://<name>.servicebus.windows.net:443/ (another suffix in sovereign clouds).
output namespaceFqdn string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]
output eventHubName string = hub.name
