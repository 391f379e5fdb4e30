// The Stream Analytics job: reads the opensky hub with its managed identity and runs
// infra/query.asaql. Outputs 1-3 go to Power BI (one dataset each) or, with Power BI off, to Blob
// storage as JSON lines; output 4 archives every event to Blob storage, which outlives the Power
// BI outputs (Azure stops them on 2027-10-31).
//
// The input and output names here are the aliases in query.asaql; infra/check compares them.
// ARM creates the job stopped: scripts/asa-job.sh starts it (azd runs it after provisioning).
//
// Rows are never dropped without a trace: outputErrorPolicy Drop skips only a row the output
// cannot take (a data conversion error; transient errors are always retried), and each such row
// is counted in the ConversionErrors metric, which alerts.bicep alerts on, and described in the
// job's Execution logs, which the diagnostic setting below sends to Log Analytics. Retry would
// instead block every output behind that one row, for ever.

param location string
param tags object
param name string
param streamingUnits int
param eventHubNamespaceName string
param eventHubName string
param consumerGroupName string
param storageAccountName string
param archiveContainerName string
param enablePowerBi bool
param powerBiWorkspaceId string
param powerBiDatasetPrefix string
param logAnalyticsWorkspaceId string

func powerBiOutput(workspaceId string, dataset string, table string) object => {
  datasource: {
    type: 'PowerBI'
    properties: {
      dataset: dataset
      table: table
      groupId: workspaceId
      authenticationMode: 'Msi'
    }
  }
}

// JSON lines under <prefix>/yyyy/MM/dd/HH/ in the archive container.
func blobOutput(accountName string, container string, prefix string) object => {
  datasource: {
    type: 'Microsoft.Storage/Blob'
    properties: {
      storageAccounts: [
        {
          accountName: accountName
        }
      ]
      container: container
      pathPattern: '${prefix}/{date}/{time}'
      dateFormat: 'yyyy/MM/dd'
      timeFormat: 'HH'
      authenticationMode: 'Msi'
    }
  }
  serialization: {
    type: 'Json'
    properties: {
      encoding: 'UTF8'
      format: 'LineSeparated'
    }
  }
}

resource job 'Microsoft.StreamAnalytics/streamingjobs@2021-10-01-preview' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    sku: {
      name: 'StandardV2'
    }
    jobType: 'Cloud'
    compatibilityLevel: '1.2'
    dataLocale: 'en-US'
    contentStoragePolicy: 'SystemAccount'
    // Events are stamped with snapshot_time, seconds to a minute before they reach the hub (the
    // handler fetches, transforms and sends a snapshot within its tick timeout).
    eventsLateArrivalMaxDelayInSeconds: 120
    eventsOutOfOrderMaxDelayInSeconds: 10
    eventsOutOfOrderPolicy: 'Adjust'
    outputErrorPolicy: 'Drop'
    inputs: [
      {
        name: 'opensky'
        properties: {
          type: 'Stream'
          datasource: {
            type: 'Microsoft.ServiceBus/EventHub'
            properties: {
              serviceBusNamespace: eventHubNamespaceName
              eventHubName: eventHubName
              consumerGroupName: consumerGroupName
              authenticationMode: 'Msi'
            }
          }
          serialization: {
            type: 'Json'
            properties: {
              encoding: 'UTF8'
            }
          }
        }
      }
    ]
    transformation: {
      name: 'Transformation'
      properties: {
        streamingUnits: streamingUnits
        query: loadTextContent('../query.asaql')
      }
    }
    outputs: [
      {
        name: 'livepositions'
        properties: enablePowerBi ? powerBiOutput(powerBiWorkspaceId, '${powerBiDatasetPrefix}-live', 'positions') : blobOutput(storageAccountName, archiveContainerName, 'livepositions')
      }
      {
        name: 'countrystats'
        properties: enablePowerBi ? powerBiOutput(powerBiWorkspaceId, '${powerBiDatasetPrefix}-countries', 'countries') : blobOutput(storageAccountName, archiveContainerName, 'countrystats')
      }
      {
        name: 'emergencies'
        properties: enablePowerBi ? powerBiOutput(powerBiWorkspaceId, '${powerBiDatasetPrefix}-emergencies', 'emergencies') : blobOutput(storageAccountName, archiveContainerName, 'emergencies')
      }
      {
        name: 'archive'
        properties: blobOutput(storageAccountName, archiveContainerName, 'events')
      }
    ]
  }
}

// Execution logs hold every runtime and data error with a sample of the offending row; Authoring
// logs the job's starts, stops and configuration changes.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: job
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'Execution'
        enabled: true
      }
      {
        category: 'Authoring'
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

output name string = job.name
output id string = job.id
output principalId string = job.identity.principalId
