// The monitoring queries, which Azure accepts unread (the log alerts skip query validation, the
// workbook runs its queries only when opened): every log alert query in infra/modules/alerts.bicep,
// every query of infra/workbook.json and every Kusto block of docs/DEPLOY.md analyses clean against
// the Log Analytics tables in monitor-tables.json. Each count is taken from the file's text, so a
// query the extraction misses fails the test. Each kind of mistake is injected once to show it is
// caught: an unknown column, an unknown table, a type error.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const m = require('../monitor.js');
const h = require('./helpers.js');

const globals = m.workspaceGlobals(h.monitorTables());
const caught = (problems, re) => assert.ok(problems.some((p) => re.test(p)), `not caught (${re}); problems:\n${problems.join('\n')}`);
const count = (text, re) => (text.match(re) || []).length;

// Every problem of the alert queries in a Bicep text, each naming the query's line.
const bicepProblems = (text) =>
  m.bicepQueries(text).queries.flatMap((q) => m.checkMonitorQuery(q.text, globals, { alert: true }).map((p) => `alerts.bicep query at line ${q.line}: ${p}`));
const workbookProblems = (workbook) =>
  m.workbookQueries(workbook).flatMap((q) => m.checkMonitorQuery(q.text, globals).map((p) => `workbook ${q.where}: ${p}`));
// Replaces exactly one occurrence of from in text, so an injection cannot silently miss.
const once = (text, from, to) => {
  assert.equal(text.split(from).length, 2, `${JSON.stringify(from)} is not in the text exactly once`);
  return text.replace(from, to);
};

test('the workspace tables are as Microsoft documents them: named sources, Kusto types, no column twice', () => {
  const doc = h.monitorTables();
  const types = new Set(['bool', 'datetime', 'dynamic', 'guid', 'int', 'long', 'real', 'string', 'timespan', 'decimal']);
  assert.ok(Object.keys(doc.tables).length > 0);
  for (const [name, t] of Object.entries(doc.tables)) {
    assert.match(t.source, /^MicrosoftDocs\/\S+ \S+\.md/, `${name}: no source file`);
    const names = t.columns.map(([c]) => c);
    assert.equal(new Set(names).size, names.length, `${name}: a column listed twice`);
    for (const [c, type] of t.columns) assert.ok(types.has(type), `${name}.${c}: ${type} is not a Kusto scalar type`);
    // Every Log Analytics table has these standard columns (azure-monitor-docs logs/log-standard-columns.md).
    assert.ok(t.columns.some(([c, type]) => c === 'TimeGenerated' && type === 'datetime'), `${name}: no TimeGenerated datetime`);
    assert.ok(t.columns.some(([c, type]) => c === 'Type' && type === 'string'), `${name}: no Type string`);
  }
});

test('every log alert query in alerts.bicep analyses clean against the workspace tables', () => {
  const text = h.alertsBicep();
  const { queries, others } = m.bicepQueries(text);
  // Every `query:` property is a string literal the check reads, or passes such a literal on from
  // the loop over the alerts (a.query); any other value would escape the check.
  const properties = count(text, /^\s*(?:query|'query')\s*:/gm);
  assert.ok(queries.length > 0, 'no query literal found');
  assert.equal(queries.length + others.length, properties, 'not every query: property was found');
  for (const o of others) assert.match(o.expr, /^\w+\.query$/, `line ${o.line}: query: ${o.expr} is neither a string literal nor a loop item's query`);
  assert.deepEqual(bicepProblems(text), []);
});

test('every query of the workbook analyses clean against the workspace tables, its parameters expanded', () => {
  const text = h.workbookText();
  const queries = m.workbookQueries(JSON.parse(text));
  assert.ok(queries.length > 0, 'no query found');
  assert.equal(queries.length, count(text, /"query"\s*:/g), 'not every "query" of the workbook was found');
  for (const q of queries) assert.doesNotMatch(q.text, /\{TimeRange(:\w+)?\}/, `${q.where}: {TimeRange} left unexpanded`);
  assert.deepEqual(workbookProblems(JSON.parse(text)), []);
});

test('every Kusto block of docs/DEPLOY.md analyses clean against the workspace tables', () => {
  const text = h.deployGuide();
  const blocks = m.markdownKustoBlocks(text);
  assert.equal(blocks.length, count(text, /^```(?:kusto|kql)\s*$/gim), 'not every Kusto block was found');
  const problems = blocks.flatMap((b) => m.checkMonitorQuery(b.text, globals).map((p) => `DEPLOY.md block at line ${b.line}: ${p}`));
  assert.deepEqual(problems, []);
});

test('an alert query naming an unknown column is caught', () => {
  const text = once(h.alertsBicep(), 'Name == "OpenSkyTimer" and Success == false', 'Name == "OpenSkyTimer" and Succeeded == false');
  caught(bicepProblems(text), /query at line \d+: line 1: KS142 The name 'Succeeded' does not refer to any known column/);
});

test('an alert query reading an unknown table is caught', () => {
  const text = once(h.alertsBicep(), "query: 'AppTraces |", "query: 'AppTrace |");
  caught(bicepProblems(text), /KS204 The name 'AppTrace' does not refer to any known table/);
});

test('an alert query with a type error is caught, including one an interpolation makes', () => {
  const text = once(h.alertsBicep(), "summarize failed = count() | where failed >= 2'", "summarize failed = count() | where failed >= now()'");
  caught(bicepProblems(text), /KS106 The operator '>=' is not defined for the operand types long and datetime/);
  // The threshold is an int parameter: quoted, it becomes a string compared with an int.
  const quoted = once(h.alertsBicep(), 'where credits < ${lowCreditsThreshold}', "where credits < \\'${lowCreditsThreshold}\\'");
  caught(bicepProblems(quoted), /KS106 The operator '<' is not defined for the operand types int and string/);
});

test('an alert query using search or union, which log search alert rules refuse, is caught', () => {
  const text = once(h.alertsBicep(), "query: 'AppTraces |", "query: 'union AppTraces, AppRequests |");
  caught(bicepProblems(text), /query at line \d+: line 1: a log alert query may not use union/);
  const searched = once(h.alertsBicep(), "query: 'AppRequests | where", "query: 'search in (AppRequests) \\'OpenSkyTimer\\' | where");
  caught(bicepProblems(searched), /a log alert query may not use search/);
});

// The workbook with one item's query changed (from replaced by to, once).
const workbookWith = (name, from, to) => {
  const wb = JSON.parse(h.workbookText());
  const item = wb.items.find((i) => i.name === name);
  assert.ok(item, `no workbook item ${name}`);
  item.content.query = once(item.content.query, from, to);
  return wb;
};

test('a workbook query naming an unknown column, an unknown table or with a type error is caught', () => {
  caught(workbookProblems(workbookWith('hub', 'sum(Total)', 'sum(Totals)')), /KS142 The name 'Totals' does not refer to any known column/);
  caught(workbookProblems(workbookWith('watermark', 'AzureMetrics\n', 'AzureMetric\n')), /KS204 The name 'AzureMetric' does not refer to any known table/);
  caught(workbookProblems(workbookWith('ticks', 'bin(TimeGenerated, 1h)', 'bin(Name, 1h)')), /KS127 The function 'bin' is not compatible with arguments \(string, timespan\)/);
});

test('a workbook query whose parameter no parameter item declares is caught', () => {
  caught(workbookProblems(workbookWith('credits', '{TimeRange}', '{Range}')), /workbook \$\.items\[\d+\]\.content: line 2: KS\d+/);
});

test('workbook time range parameters expand as Microsoft documents them', () => {
  // visualize/workbooks-time.md: `| where timestamp {TimeRange}` runs as `| where timestamp > ago(1d)`
  // when the parameter is the last 24 hours.
  const params = new Map([['TimeRange', { name: 'TimeRange', type: 4, value: { durationMs: 86400000 } }]]);
  assert.equal(m.expandWorkbookParameters('T | where timestamp {TimeRange}', params), 'T | where timestamp > ago(1d)');
  params.get('TimeRange').value.durationMs = 6 * 3600000;
  assert.equal(m.expandWorkbookParameters('T | where t {TimeRange:query}', params), 'T | where t > ago(6h)');
  const series = m.expandWorkbookParameters('T | make-series n = count() on t from {TimeRange:start} to {TimeRange:end} step {TimeRange:grain}', params);
  assert.deepEqual(m.checkMonitorQuery(series.replace(/^T/, 'AppTraces').replace(/\bt\b/g, 'TimeGenerated'), globals), []);
  assert.throws(() => m.expandWorkbookParameters('{Box}', new Map([['Box', { name: 'Box', type: 1 }]])), /parameter Box: type 1 is not one this check expands/);
  assert.throws(() => m.workbookQueries({ items: [{ name: 'arg', content: { query: 'resources', queryType: 1 } }] }), /queryType 1 is not a Logs \(KQL\) query/);
});

test('Bicep interpolations become values of the declared type; one the check cannot value fails it', () => {
  const bicep = [
    '@minValue(5)',
    'param n int',
    "param kind string = 'x'",
    'var twice = 2 * n + 1',
    "var label = n > 1 ? 'many' : 'one'",
    "var q = { query: 'T | where a > ${twice} and k == \"${kind}\" and s == \"it\\'s\"' }",
    "// query: 'not a property'",
    "var r = { query: '''",
    "T | take ${n}'''}",
  ].join('\n');
  const { queries } = m.bicepQueries(bicep);
  assert.deepEqual(queries.map((q) => q.text), ['T | where a > 11 and k == "x" and s == "it\'s"', 'T | take ${n}']);
  assert.throws(() => m.bicepQueries(bicep.replace('${kind}', '${label}')), /cannot give \$\{label\} a value/);
  assert.throws(() => m.bicepQueries(bicep.replace('${kind}', '${missing}')), /missing is neither a parameter nor a variable/);
});
