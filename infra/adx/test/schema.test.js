// The table and its JSON mapping follow schema/event.schema.json field for field, so the event
// schema, the mapping and the KQL cannot drift apart.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { analyseScript, checkEventTable, schemaColumns } = require('../kql.js');
const h = require('./helpers.js');

const names = () => ({ table: h.bicepValue('tableName'), mapping: h.bicepValue('mappingName') });
const analyse = (text) => analyseScript(text, { database: h.bicepValue('databaseName') });
// The script as it is, analysed once for the tests that do not change it.
let pristine;
const analysed = () => (pristine ??= analyse(h.script()));

test('the event schema has a Kusto type for every field', () => {
  const cols = schemaColumns(h.schema());
  assert.ok(cols.length >= 19, `only ${cols.length} fields`);
  const byName = Object.fromEntries(cols.map((c) => [c.name, c.type]));
  // One of each JSON shape, so a change in kustoType shows here.
  assert.equal(byName.event_id, 'string');
  assert.equal(byName.snapshot_time, 'datetime');
  assert.equal(byName.time_position, 'datetime'); // ["string", "null"] with format date-time
  assert.equal(byName.latitude, 'real');
  assert.equal(byName.position_source, 'long');
  assert.equal(byName.on_ground, 'bool');
  assert.equal(byName.sensors, 'dynamic');
});

test('the table and the mapping the data connection uses match the event schema', () => {
  assert.deepEqual(checkEventTable(analysed(), h.schema(), names()), []);
});

test('a schema field the table lacks is caught', () => {
  const schema = h.schema();
  schema.properties.squawk_text = { type: ['string', 'null'] };
  const problems = checkEventTable(analysed(), schema, names());
  assert.ok(problems.some((p) => /no column squawk_text/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /schema field squawk_text is not mapped/.test(p)), problems.join('\n'));
});

test('a column of the wrong type is caught in the table and in the mapping', () => {
  const text = h.script()
    .replace('on_ground:bool', 'on_ground:string')
    .replace('"column":"velocity","datatype":"real"', '"column":"velocity","datatype":"long"');
  const problems = checkEventTable(analyse(text), h.schema(), names());
  assert.ok(problems.some((p) => /column on_ground is string; the schema makes it bool/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /column velocity is mapped as long/.test(p)), problems.join('\n'));
});

test('a mapping that reads the wrong path or misses a field is caught', () => {
  const text = h.script()
    .replace('"Path":"$.baro_altitude"', '"Path":"$.geo_altitude"')
    .replace('{"column":"spi","datatype":"bool","Properties":{"Path":"$.spi"}},', '');
  const problems = checkEventTable(analyse(text), h.schema(), names());
  assert.ok(problems.some((p) => /baro_altitude reads \$\.geo_altitude/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /schema field spi is not mapped/.test(p)), problems.join('\n'));
});

test('a mapping name the data connection does not use is caught', () => {
  const text = h.script().replace('"OpenSkyEventsMapping"', '"OpenSkyMapping"');
  const problems = checkEventTable(analyse(text), h.schema(), names());
  assert.ok(problems.some((p) => /no mapping OpenSkyEventsMapping/.test(p)), problems.join('\n'));
});
