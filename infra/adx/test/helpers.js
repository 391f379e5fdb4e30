// What the tests read from the repository: the script, the event schema, the dashboard, the
// names infra/modules/adx.bicep gives the data connection (which the script must create), and the
// monitoring queries with the Log Analytics tables they read.
'use strict';

const { repoFile } = require('../kql.js');

/** The value of `var <name> = '<value>'` or `param <name> <type> = '<value>'` in adx.bicep. */
function bicepValue(name) {
  const src = repoFile('infra/modules/adx.bicep');
  const m = src.match(new RegExp(`^(?:var ${name}|param ${name} \\w+) = '([^']*)'`, 'm'));
  if (!m) throw new Error(`infra/modules/adx.bicep declares no ${name} with a literal value`);
  return m[1];
}

module.exports = {
  bicepValue,
  script: () => repoFile('infra/adx/schema.kql'),
  policyScript: () => repoFile('infra/adx/managed-identity-policy.kql'),
  schema: () => JSON.parse(repoFile('schema/event.schema.json')),
  dashboard: () => JSON.parse(repoFile('infra/adx/dashboard.json')),
  adxBicep: () => repoFile('infra/modules/adx.bicep'),
  alertsBicep: () => repoFile('infra/modules/alerts.bicep'),
  workbookText: () => repoFile('infra/workbook.json'),
  deployGuide: () => repoFile('docs/DEPLOY.md'),
  monitorTables: () => JSON.parse(repoFile('infra/adx/test/monitor-tables.json')),
};
