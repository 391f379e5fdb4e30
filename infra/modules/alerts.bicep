// What tells the people running the pipeline that a stage stopped: an action group that e-mails
// alertEmail (none when it is empty: the alerts still fire and show in the portal), alert rules on
// each stage, and a workbook with the pipeline per hour.
//
//   ticks failing            log alert, AppRequests: failed OpenSkyTimer invocations
//   no events reach the hub  log alert, AzureMetrics: no IncomingMessages for three schedule intervals
//   job stopped or failed    log alert, AzureMetrics: the hub receives, the job reads nothing
//   job runtime errors       metric alert, Errors
//   rows dropped             metric alert, ConversionErrors (outputErrorPolicy Drop)
//   events unreadable        metric alert, DeserializationError
//   job falling behind       metric alert, OutputWatermarkDelaySeconds
//   job memory               metric alert, ResourceUtilization (the dedupe state, see query.asaql)
//   OpenSky credits low      log alert, AppTraces: credits_remaining of the tick summary
//
// Log alerts read the Log Analytics workspace: Application Insights is workspace-based (AppRequests,
// AppTraces) and the diagnostic settings send the hub's and the job's metrics there (AzureMetrics).
// Their queries are not validated at creation (skipQueryValidation), because those tables appear
// only once the first rows arrive. Metric names: MicrosoftDocs/azure-docs
// articles/stream-analytics/monitor-azure-stream-analytics-reference.md.

param location string
param tags object
param namePrefix string
param alertEmail string
param logAnalyticsId string
param streamAnalyticsJobId string
@minValue(1)
@maxValue(1440)
param intervalMinutes int
param lowCreditsThreshold int

// The silence that means "stopped": three schedule intervals, rounded up to a window that log
// alerts accept (5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440 or 2880 minutes: the service's
// own answer to any other, quoted in Azure/azure-rest-api-specs issue 21258). Two days is the
// longest, so scripts/deploycheck refuses a schedule with more than a day between ticks: the
// window would hold no tick and the alert would fire between every two.
var silenceMinutes = 3 * intervalMinutes
var silenceWindow = silenceMinutes <= 15 ? 'PT15M' : silenceMinutes <= 30 ? 'PT30M' : silenceMinutes <= 45 ? 'PT45M' : silenceMinutes <= 60 ? 'PT1H' : silenceMinutes <= 120 ? 'PT2H' : silenceMinutes <= 180 ? 'PT3H' : silenceMinutes <= 360 ? 'PT6H' : silenceMinutes <= 1440 ? 'P1D' : 'P2D'
// Ticks failing: over at least an hour, or three intervals if longer; two failures alert.
var tickWindow = silenceMinutes <= 60 ? 'PT1H' : silenceWindow
// The job's watermark may lag by up to one interval between snapshots, plus the late-arrival
// tolerance (120 s); twice the interval plus five minutes means it is really behind.
var watermarkThresholdSeconds = 2 * intervalMinutes * 60 + 300

var actionGroupName = 'ag-${namePrefix}'
var actionGroups = empty(alertEmail) ? [] : [
  resourceId('Microsoft.Insights/actionGroups', actionGroupName)
]
var metricAlertActions = [for id in actionGroups: {
  actionGroupId: id
}]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'opensky'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Each log alert fires when its query returns a row in the window.
var logAlerts = [
  {
    name: 'ticks-failing'
    severity: 1
    window: tickWindow
    description: 'OpenSkyTimer invocations failed at least twice in the window: OpenSky refused or timed out, credits ran out, or Event Hubs did not take the snapshot. See the failed invocations in Application Insights (docs/DEPLOY.md, Troubleshooting).'
    query: 'AppRequests | where Name == "OpenSkyTimer" and Success == false | summarize failed = count() | where failed >= 2'
  }
  {
    name: 'hub-silent'
    severity: 1
    window: silenceWindow
    description: 'No event reached the opensky hub for three schedule intervals: the timer is not firing, every tick fails or skips, or the app cannot send. Start with the ticks in the workbook.'
    query: 'AzureMetrics | where ResourceProvider == "MICROSOFT.EVENTHUB" and MetricName == "IncomingMessages" and Total > 0 | count | where Count == 0'
  }
  {
    name: 'job-not-reading'
    severity: 1
    window: silenceWindow
    description: 'Events reach the hub but the Stream Analytics job read none: the job is stopped or failed. Check its state (scripts/asa-job.sh status) and its Activity log, then scripts/asa-job.sh start.'
    query: 'let hub = toscalar(AzureMetrics | where ResourceProvider == "MICROSOFT.EVENTHUB" and MetricName == "IncomingMessages" | summarize sum(Total)); let job = toscalar(AzureMetrics | where ResourceProvider == "MICROSOFT.STREAMANALYTICS" and MetricName == "InputEvents" | summarize sum(Total)); print hub = hub, job = job | where hub > 0 and (isnull(job) or job == 0)'
  }
  {
    name: 'credits-low'
    severity: 2
    window: tickWindow
    description: 'OpenSky reported fewer than ${lowCreditsThreshold} credits left today (credits_remaining of the tick summary), less than the schedule should leave: something spends more than planned (anonymous credits are counted per IP), or the schedule needs more than the account has. Ticks will fail with 429 until the daily reset: slow the schedule, narrow the box, or use an account with more credits.'
    query: 'AppTraces | where Message startswith "tick summary " | extend summary = parse_json(substring(Message, strlen("tick summary "))) | where isnotnull(summary.credits_remaining) | summarize credits = min(toint(summary.credits_remaining)) | where credits < ${lowCreditsThreshold}'
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for a in logAlerts: {
  name: '${namePrefix}-${a.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'opensky: ${a.name}'
    description: a.description
    severity: a.severity
    enabled: true
    scopes: [
      logAnalyticsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: a.window
    skipQueryValidation: true
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: a.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actionGroups
    }
  }
  dependsOn: [
    actionGroup
  ]
}]

// Each metric alert fires when the job's metric passes its threshold over the window.
var jobAlerts = [
  {
    name: 'job-runtime-errors'
    severity: 1
    description: 'The Stream Analytics job reports runtime errors. Its Execution logs in Log Analytics (AzureDiagnostics, Category Execution) say which.'
    metric: 'Errors'
    aggregation: 'Total'
    threshold: 0
    window: 'PT15M'
  }
  {
    name: 'job-dropped-rows'
    severity: 1
    description: 'The Stream Analytics job dropped rows an output could not take (data conversion errors; the error policy is Drop). Its Execution logs hold each with a sample of the row.'
    metric: 'ConversionErrors'
    aggregation: 'Total'
    threshold: 0
    window: 'PT15M'
  }
  {
    name: 'job-unreadable-events'
    severity: 1
    description: 'The Stream Analytics job could not read some events from the hub (input deserialization errors), so they are missing from every output. Its Execution logs say which and why.'
    metric: 'DeserializationError'
    aggregation: 'Total'
    threshold: 0
    window: 'PT15M'
  }
  {
    name: 'job-behind'
    severity: 2
    description: 'The Stream Analytics job\'s watermark delay stayed above ${watermarkThresholdSeconds} s: it is falling behind the hub (too few streaming units, or an output is slow).'
    metric: 'OutputWatermarkDelaySeconds'
    aggregation: 'Minimum'
    threshold: watermarkThresholdSeconds
    window: 'PT30M'
  }
  {
    name: 'job-memory'
    severity: 2
    description: 'The Stream Analytics job uses over 80% of its streaming units\' memory (mostly the one-hour dedupe state). A job out of memory fails: add streaming units or slow the schedule.'
    metric: 'ResourceUtilization'
    aggregation: 'Maximum'
    threshold: 80
    window: 'PT15M'
  }
]

resource jobAlertRules 'Microsoft.Insights/metricAlerts@2018-03-01' = [for a in jobAlerts: {
  name: '${namePrefix}-${a.name}'
  location: 'global'
  tags: tags
  properties: {
    description: a.description
    severity: a.severity
    enabled: true
    scopes: [
      streamAnalyticsJobId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: a.window
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: a.metric
          metricNamespace: 'Microsoft.StreamAnalytics/streamingjobs'
          metricName: a.metric
          timeAggregation: a.aggregation
          operator: 'GreaterThan'
          threshold: a.threshold
        }
      ]
    }
    actions: metricAlertActions
  }
  dependsOn: [
    actionGroup
  ]
}]

// The pipeline per hour (infra/workbook.json), reading the same workspace: every query names it
// as __WORKSPACE_ID__, replaced here.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, namePrefix, 'pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'OpenSky pipeline (${namePrefix})'
    category: 'workbook'
    sourceId: logAnalyticsId
    version: 'Notebook/1.0'
    serializedData: replace(loadTextContent('../workbook.json'), '__WORKSPACE_ID__', logAnalyticsId)
  }
}

output actionGroupEnabled bool = !empty(alertEmail)
output workbookId string = workbook.id
