// The database script as a cluster would run it: every block a known management command a
// database script may hold, every command (and the view and function bodies in it) clean against
// the symbols the commands before it declare. Each kind of mistake is injected once to show it is
// caught: an unknown column, a misspelled command, a type error.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { analyseScript, analyseQuery } = require('../kql.js');
const h = require('./helpers.js');

const analyse = (text) => analyseScript(text, { database: h.bicepValue('databaseName') });
// The script as it is, analysed once for the tests that do not change it.
let pristine;
const analysed = () => (pristine ??= analyse(h.script()));
const caught = (problems, re) => assert.ok(problems.some((p) => re.test(p)), `not caught (${re}); problems:\n${problems.join('\n')}`);

test('the database script analyses clean, command by command', () => {
  const a = analysed();
  assert.deepEqual(a.problems, []);
  assert.deepEqual(a.commands.map((c) => c.kind), [
    'CreateMergeTable',
    'CreateOrAlterTableIngestionMapping',
    'CreateOrAlterMaterializedView',
    'CreateOrAlterMaterializedView',
    'CreateOrAlterFunction',
    'CreateOrAlterFunction',
    'CreateOrAlterFunction',
  ]);
});

test('the script declares the dedupe view and the three outputs of the Stream Analytics query', () => {
  const a = analysed();
  const table = h.bicepValue('tableName');
  const dedupe = a.views.get('OpenSkyStates');
  assert.ok(dedupe, 'no OpenSkyStates view');
  assert.equal(dedupe.source, table);
  assert.match(dedupe.query, /summarize\s+take_any\(\*\)\s+by\s+event_id\s*$/);
  // A take_any(*) view keeps every column of its table.
  assert.deepEqual(dedupe.columns, a.tables.get(table));
  assert.deepEqual([...a.functions.keys()].sort(), ['CountryStats', 'Emergencies', 'LivePositions']);
});

test('every stored function returns the columns of its Stream Analytics output', () => {
  const a = analysed();
  const cols = (q) => {
    const r = analyseQuery(q, a.globals);
    assert.deepEqual(r.errors, [], q);
    return r.columns.map((c) => `${c.name}:${c.type}`).join(', ');
  };
  assert.equal(cols('LivePositions()'),
    'icao24:string, callsign:string, origin_country:string, snapshot_time:datetime, last_contact:datetime, latitude:real, longitude:real, baro_altitude:real, geo_altitude:real, velocity:real, true_track:real, vertical_rate:real, on_ground:bool, squawk:string, category:long');
  assert.equal(cols('CountryStats(ago(1h), now())'),
    'origin_country:string, window_end:datetime, airborne:long, grounded:long, mean_baro_altitude:real, mean_velocity:real');
  assert.equal(cols('Emergencies(ago(1h), now())'),
    'icao24:string, callsign:string, squawk:string, emergency:string, origin_country:string, latitude:real, longitude:real, baro_altitude:real, velocity:real, on_ground:bool, snapshot_time:datetime, last_contact:datetime');
});

test('the managed identity policy script analyses clean for the database adx.bicep creates', () => {
  const db = h.bicepValue('databaseName');
  // Bicep's replace() replaces every occurrence, as replaceAll does.
  const a = analyse(h.policyScript().replaceAll('{database}', db));
  assert.deepEqual(a.problems, []);
  assert.deepEqual(a.commands.map((c) => c.kind), ['AlterMergeDatabasePolicyManagedIdentity']);
});

test('adx.bicep runs these files and connects to the table and mapping the script creates', () => {
  const src = h.adxBicep();
  assert.match(src, /scriptContent: loadTextContent\('\.\.\/adx\/schema\.kql'\)/);
  assert.match(src, /loadTextContent\('\.\.\/adx\/managed-identity-policy\.kql'\), '\{database\}', databaseName\)/);
  assert.match(src, /tableName: tableName\b/);
  assert.match(src, /mappingRuleName: mappingName\b/);
  assert.match(src, /dataFormat: 'JSON'/);
});

test('an unknown column in a function body is caught', () => {
  const text = h.script().replace('| where squawk in ("7500", "7600", "7700")', '| where squak in ("7500", "7600", "7700")');
  caught(analyse(text).problems, /KS142 The name 'squak' does not refer to any known column/);
});

test('an unknown column in a materialized view body is caught', () => {
  const text = h.script().replace('summarize take_any(*) by event_id', 'summarize take_any(*) by eventid');
  caught(analyse(text).problems, /KS142 The name 'eventid'/);
});

test('a misspelled command is caught, though the analyzer reports no diagnostic for it', () => {
  const text = h.script().replace('.create-merge table OpenSkyEvents', '.crate-merge table OpenSkyEvents');
  const problems = analyse(text).problems;
  caught(problems, /unknown command "\.crate-merge table OpenSkyEvents/);
  // Alone, it is the only problem: the analyzer itself has no diagnostic for it.
  assert.deepEqual(analyse('.crate table T (a:string)\n').problems, ['line 1: unknown command ".crate table T (a:string)"']);
});

test('a type error is caught', () => {
  const text = h.script().replace('mean_velocity = avgif(velocity, not(on_ground))', 'mean_velocity = avgif(velocity + snapshot_time, not(on_ground))');
  caught(analyse(text).problems, /KS106 The operator '\+' is not defined for the operand types real and datetime/);
});

test('a function that reads a view declared after it is caught (the script runs in order)', () => {
  const text = h.script().replace(/(\.create-or-alter materialized-view with \(autoUpdateSchema[^]*?\n\}\n)\n([^]*)$/, '$2\n$1');
  caught(analyse(text).problems, /KS204 The name 'LatestPositions' does not refer to any known table/);
});

test('a query block or a command a database script may not run is caught', () => {
  const problems = analyse(h.script() + '\nOpenSkyEvents | take 10\n\n.show tables\n').problems;
  caught(problems, /not a management command/);
  caught(problems, /\.show cannot run in a database script/);
});

test('an update policy whose query does not return its table\'s columns is caught', () => {
  const text = h.script() + [
    '',
    '.create-merge table Positions (icao24:string, latitude:real, longitude:real)',
    '',
    ".alter table Positions policy update @'[{\"Source\":\"OpenSkyEvents\",\"Query\":\"OpenSkyEvents | project icao24, latitude\",\"IsEnabled\":true}]'",
    '',
  ].join('\n');
  const a = analyse(text);
  caught(a.problems, /update policy of Positions returns \(icao24:string, latitude:real\); the table is \(icao24:string, latitude:real, longitude:real\)/);
  const fixed = analyse(text.replace('project icao24, latitude"', 'project icao24, latitude, longitude"'));
  assert.deepEqual(fixed.problems, []);
});
