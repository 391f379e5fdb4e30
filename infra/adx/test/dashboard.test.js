// infra/adx/dashboard.json, the Azure Data Explorer dashboard imported by hand (docs/ANALYTICS.md):
// every tile's query analyses clean against the script's symbols, reads the stored functions only,
// and returns every column its visual names.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { analyseScript, checkDashboard } = require('../kql.js');
const h = require('./helpers.js');

const analysis = analyseScript(h.script(), { database: h.bicepValue('databaseName') });
const caught = (problems, re) => assert.ok(problems.some((p) => re.test(p)), `not caught (${re}); problems:\n${problems.join('\n')}`);
const queryOf = (d, title) => {
  const tile = d.tiles.find((t) => t.title.startsWith(title));
  assert.ok(tile, `no tile ${title}`);
  return d.queries.find((q) => q.id === tile.queryRef.queryId);
};

test('the dashboard file is clean against the database script', () => {
  assert.deepEqual(analysis.problems, []);
  assert.deepEqual(checkDashboard(h.dashboard(), analysis), []);
});

test('the dashboard has the map of live positions, aircraft per country and the emergencies', () => {
  const d = h.dashboard();
  const map = d.tiles.find((t) => t.visualType === 'map');
  assert.ok(map, 'no map tile');
  assert.match(queryOf(d, 'Live positions').text, /^LivePositions\(\)/);
  assert.equal(map.visualOptions.map__latitudeColumn, 'latitude');
  assert.equal(map.visualOptions.map__longitudeColumn, 'longitude');
  assert.match(queryOf(d, 'Aircraft per country').text, /^CountryStats\(_startTime, _endTime\)/);
  assert.match(queryOf(d, 'Emergencies').text, /^Emergencies\(_startTime, _endTime\)/);
  // The data source is a placeholder the import replaces (docs/ANALYTICS.md).
  assert.equal(d.dataSources.length, 1);
  assert.equal(d.dataSources[0].database, h.bicepValue('databaseName'));
});

test('a tile query with an unknown column is caught', () => {
  const d = h.dashboard();
  queryOf(d, 'Emergencies').text = 'Emergencies(_startTime, _endTime)\n| order by snapshot desc';
  caught(checkDashboard(d, analysis), /KS142 The name 'snapshot' does not refer to any known column/);
});

test('a tile query calling a function the script does not create is caught', () => {
  const d = h.dashboard();
  queryOf(d, 'Live positions').text = 'LivePosition()';
  caught(checkDashboard(d, analysis), /query .*: KS\d+ .*LivePosition/);
});

test('a tile query with a type error is caught', () => {
  const d = h.dashboard();
  queryOf(d, 'Aircraft per country').text = 'CountryStats(_startTime, _endTime)\n| extend x = airborne + origin_country';
  caught(checkDashboard(d, analysis), /KS106 The operator '\+' is not defined/);
});

test('a tile query that reads the table or a view instead of a stored function is caught', () => {
  const d = h.dashboard();
  queryOf(d, 'Emergencies').text = 'OpenSkyStates\n| where squawk == "7700" and snapshot_time between (_startTime .. _endTime)';
  caught(checkDashboard(d, analysis), /reads view OpenSkyStates; tiles read the stored functions only/);
});

test('a visual naming a column its query does not return is caught', () => {
  const d = h.dashboard();
  d.tiles.find((t) => t.visualType === 'map').visualOptions.map__labelColumn = 'flight';
  caught(checkDashboard(d, analysis), /map__labelColumn names column flight, which its query does not return/);
});

test('a dashboard parameter a query uses but does not list is caught', () => {
  const d = h.dashboard();
  queryOf(d, 'Emergencies').usedVariables = [];
  caught(checkDashboard(d, analysis), /uses _startTime but usedVariables does not list it/);
});

test('a tile whose query or page does not exist is caught', () => {
  const d = h.dashboard();
  d.tiles[0].queryRef.queryId = '00000000-0000-4000-8000-000000000000';
  d.tiles[1].pageId = '00000000-0000-4000-8000-000000000001';
  const problems = checkDashboard(d, analysis);
  caught(problems, /queryRef .* names no query/);
  caught(problems, /page 00000000-0000-4000-8000-000000000001 is not declared/);
});
