// Offline checks of the Azure Data Explorer database script and dashboard with Microsoft's own Kusto
// analyzer: @kusto/language-service-next, the Bridge.NET build of Kusto.Language (the parser and
// binder behind the Azure Data Explorer web UI and Kusto Explorer). Nothing here talks to a cluster.
//
// The analyzer knows the commands' grammar and the query language's types and functions, but not a
// database: analyseScript builds one as a cluster would, command by command, from the tables,
// views and functions the script declares, and analyses each command against what came before it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

let kusto;

/** Loads Kusto.Language once. The Bridge runtime must be global before the library is loaded. */
function loadKusto() {
  if (!kusto) {
    const dir = path.dirname(require.resolve('@kusto/language-service-next/package.json'));
    global.Bridge = require(path.join(dir, 'bridge.js'));
    require(path.join(dir, 'Kusto.Language.Bridge.js'));
    kusto = global.Kusto.Language;
  }
  return kusto;
}

// The verbs a database script may start with (Microsoft: "Configure a database using a Kusto Query
// Language script", data-explorer/database-script.md).
const scriptVerbs = ['.create', '.create-or-alter', '.create-merge', '.alter', '.alter-merge', '.add'];

// JSON schema types to Kusto column types. A date-time string becomes datetime on ingestion.
function kustoType(prop) {
  const types = [].concat(prop.type).filter((t) => t !== 'null');
  if (types.length !== 1) throw new Error(`schema type ${JSON.stringify(prop.type)} has no single Kusto type`);
  switch (types[0]) {
    case 'string': return prop.format === 'date-time' ? 'datetime' : 'string';
    case 'number': return 'real';
    case 'integer': return 'long';
    case 'boolean': return 'bool';
    case 'array': case 'object': return 'dynamic';
    default: throw new Error(`schema type ${types[0]} has no Kusto type`);
  }
}

/** The columns the event schema implies, in the schema's order: [{name, type}]. */
function schemaColumns(schema) {
  return Object.entries(schema.properties).map(([name, prop]) => ({ name, type: kustoType(prop) }));
}

function iterate(list) {
  const out = [];
  if (list) for (let i = 0; i < list.Count; i++) out.push(list.getItem(i));
  return out;
}

/** Error diagnostics of analysed code, each with its line (1-based) in text. */
function errorsOf(code, text, lineOffset = 0) {
  const K = loadKusto();
  return iterate(code.GetDiagnostics())
    .filter((d) => d.Severity === K.DiagnosticSeverity.Error)
    .map((d) => ({
      code: d.Code,
      message: d.Message,
      line: lineOffset + text.slice(0, d.Start).split('\n').length,
    }));
}

function columnsOf(type) {
  if (!type || !type.Columns) return [];
  return iterate(type.Columns).map((c) => ({ name: c.Name, type: c.Type.Name }));
}

// Each child of a syntax node with the name the grammar gives it (TableName, Body, ...).
function walk(node, visit) {
  if (!node) return;
  for (let i = 0; i < node.ChildCount; i++) {
    const child = node.GetChild(i);
    if (child) {
      visit(node.GetName(i), child);
      walk(child, visit);
    }
  }
}

function named(node) {
  const out = {};
  walk(node, (name, child) => {
    if (name && !(name in out)) out[name] = child;
  });
  return out;
}

const textOf = (text, node) => text.slice(node.TextStart, node.End);
const nameOf = (text, node) => textOf(text, node).replace(/^\['|^\["|'\]$|"\]$/g, '');
const literal = (node) => node.LiteralValue;

/**
 * Analyses a database script as a cluster would run it, command by command, and returns what it
 * declares and every problem found: an error diagnostic, a block that is not a management command,
 * an unknown command (a misspelled verb parses as one without any diagnostic), a verb a database
 * script may not use, or an update policy whose query does not return its table's columns.
 */
function analyseScript(text, { database = 'db' } = {}) {
  const K = loadKusto();
  const S = K.Symbols;
  const tables = new Map(); // name -> [{name, type}]
  const views = new Map(); // name -> {source, query, columns}
  const functions = new Map(); // name -> {parameters, body}
  const mappings = [];
  const updatePolicies = [];
  const commands = [];
  const problems = [];
  let globals;

  const rebuild = () => {
    const members = [];
    for (const [name, cols] of tables) {
      members.push(S.TableSymbol.From('(' + cols.map((c) => `['${c.name}']:${c.type}`).join(', ') + ')').WithName(name));
    }
    for (const [name, v] of views) {
      members.push(new S.MaterializedViewSymbol.$ctor3(name, '(' + v.columns.map((c) => `['${c.name}']:${c.type}`).join(', ') + ')', v.query, ''));
    }
    for (const [name, f] of functions) {
      members.push(new S.FunctionSymbol.$ctor16(name, f.parameters, f.body, ''));
    }
    const db = new S.DatabaseSymbol.$ctor1(database, members, false);
    globals = K.GlobalState.Default.WithCluster(new S.ClusterSymbol.$ctor1('cluster', [db], false)).WithDatabase(db);
  };
  rebuild();

  const script = K.Editor.CodeScript.From$1(text, globals);
  for (const block of iterate(script.Blocks)) {
    const body = block.Text;
    const line = text.slice(0, block.Start).split('\n').length;
    // A block of comments only is not a command.
    if (body.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('//'))) continue;
    const code = K.KustoCode.ParseAndAnalyze(body, globals);
    for (const e of errorsOf(code, body, line - 1)) {
      problems.push(`line ${e.line}: ${e.code} ${e.message}`);
    }
    if (code.Kind !== 'Command') {
      problems.push(`line ${line}: not a management command (a database script holds commands only)`);
      continue;
    }
    const statements = iterate(code.Syntax.Statements).map((s) => s.Element.Expression);
    for (const cmd of statements) {
      const cmdText = cmd ? textOf(body, cmd) : '';
      const cmdLine = cmd ? line + body.slice(0, cmd.TextStart).split('\n').length - 1 : line;
      const where = `line ${cmdLine}`;
      if (!cmd || cmd.CommandKind === undefined || !(cmd instanceof K.Syntax.CustomCommand)) {
        problems.push(`${where}: unknown command ${JSON.stringify(cmdText.split('\n')[0])}`);
        continue;
      }
      const verb = cmdText.slice(0, cmdText.search(/\s|$/));
      if (!scriptVerbs.includes(verb)) {
        problems.push(`${where}: ${verb} cannot run in a database script (only ${scriptVerbs.join(', ')})`);
      }
      commands.push({ kind: cmd.CommandKind, line: cmdLine, text: cmdText });
      const parts = named(cmd);
      switch (cmd.CommandKind) {
        case 'CreateTable':
        case 'CreateMergeTable':
        case 'AlterTable':
        case 'AlterMergeTable': {
          const cols = [];
          let col;
          walk(cmd, (name, child) => {
            if (name === 'ColumnName') col = nameOf(body, child);
            if (name === 'ColumnType' && col !== undefined) {
              cols.push({ name: col, type: textOf(body, child) });
              col = undefined;
            }
          });
          const table = nameOf(body, parts.TableName);
          const merge = cmd.CommandKind.includes('Merge') && tables.has(table);
          tables.set(table, merge ? [...tables.get(table), ...cols.filter((c) => !tables.get(table).some((t) => t.name === c.name))] : cols);
          rebuild();
          break;
        }
        case 'CreateTableIngestionMapping':
        case 'CreateOrAlterTableIngestionMapping':
        case 'AlterTableIngestionMapping': {
          let elements;
          try {
            elements = JSON.parse(literal(parts.MappingFormat));
          } catch (err) {
            problems.push(`${where}: mapping ${literal(parts.MappingName)} is not JSON: ${err.message}`);
            elements = [];
          }
          mappings.push({
            table: nameOf(body, parts.TableName),
            kind: textOf(body, parts.MappingKind).toLowerCase(),
            name: literal(parts.MappingName),
            elements,
          });
          break;
        }
        case 'CreateMaterializedView':
        case 'CreateOrAlterMaterializedView': {
          const source = parts.SourceBody;
          const query = textOf(body, source).replace(/^\{|\}$/g, '');
          const result = K.KustoCode.ParseAndAnalyze(query, globals);
          views.set(nameOf(body, parts.MaterializedViewName), {
            source: nameOf(body, parts.SourceTableName),
            query,
            columns: columnsOf(result.ResultType),
          });
          rebuild();
          break;
        }
        case 'CreateFunction':
        case 'CreateOrAlterFunction':
        case 'AlterFunction': {
          functions.set(nameOf(body, parts.FunctionName), {
            parameters: textOf(body, parts.Parameters),
            body: textOf(body, parts.Body),
          });
          rebuild();
          break;
        }
        case 'AlterTablePolicyUpdate':
        case 'AlterMergeTablePolicyUpdate': {
          const target = nameOf(body, parts.TableName);
          let policies = [];
          try {
            policies = JSON.parse(literal(parts.UpdatePolicy));
          } catch (err) {
            problems.push(`${where}: update policy of ${target} is not JSON: ${err.message}`);
          }
          for (const p of policies) {
            updatePolicies.push({ target, source: p.Source, query: p.Query });
            const result = K.KustoCode.ParseAndAnalyze(p.Query, globals);
            for (const e of errorsOf(result, p.Query)) {
              problems.push(`${where}: update policy of ${target}: ${e.code} ${e.message}`);
            }
            const got = columnsOf(result.ResultType).map((c) => `${c.name}:${c.type}`).join(', ');
            const want = (tables.get(target) || []).map((c) => `${c.name}:${c.type}`).join(', ');
            if (got !== want) {
              problems.push(`${where}: update policy of ${target} returns (${got}); the table is (${want})`);
            }
          }
          break;
        }
        default:
          break;
      }
    }
  }
  return { tables, views, functions, mappings, updatePolicies, commands, problems, globals };
}

/**
 * Checks the event table and its ingestion mapping against the event schema: the table has exactly
 * the schema's fields as columns, in order, with the Kusto type each JSON type becomes, and the
 * mapping maps every field once, from its own JSON path, with the column's type. Returns problems.
 */
function checkEventTable(analysis, schema, { table, mapping }) {
  const problems = [];
  const want = schemaColumns(schema);
  const got = analysis.tables.get(table);
  if (!got) return [`the script creates no table ${table}`];
  const fmt = (cols) => cols.map((c) => `${c.name}:${c.type}`).join(', ');
  if (fmt(got) !== fmt(want)) {
    for (const w of want) {
      const g = got.find((c) => c.name === w.name);
      if (!g) problems.push(`table ${table} has no column ${w.name} (schema field, ${w.type})`);
      else if (g.type !== w.type) problems.push(`table ${table}: column ${w.name} is ${g.type}; the schema makes it ${w.type}`);
    }
    for (const g of got) {
      if (!want.some((w) => w.name === g.name)) problems.push(`table ${table}: column ${g.name} is not a schema field`);
    }
    if (problems.length === 0) problems.push(`table ${table}: columns (${fmt(got)}) are not in the schema's order (${fmt(want)})`);
  }
  const m = analysis.mappings.find((x) => x.table === table && x.name === mapping);
  if (!m) return [...problems, `the script creates no mapping ${mapping} on ${table}`];
  if (m.kind !== 'json') problems.push(`mapping ${mapping} is ${m.kind}, not json`);
  const seen = new Map();
  for (const e of m.elements) {
    const column = e.column || e.Column;
    const type = e.datatype || e.DataType;
    const p = (e.Properties || {}).Path;
    const w = want.find((c) => c.name === column);
    if (seen.has(column)) problems.push(`mapping ${mapping}: column ${column} is mapped twice`);
    seen.set(column, true);
    if (!w) {
      problems.push(`mapping ${mapping}: column ${column} is not a schema field`);
      continue;
    }
    if (p !== `$.${column}`) problems.push(`mapping ${mapping}: column ${column} reads ${p}, not $.${column}`);
    if (type !== w.type) problems.push(`mapping ${mapping}: column ${column} is mapped as ${type}; the schema makes it ${w.type}`);
  }
  for (const w of want) {
    if (!seen.has(w.name)) problems.push(`mapping ${mapping}: schema field ${w.name} is not mapped`);
  }
  return problems;
}

/**
 * Analyses a query (a dashboard tile's) against the script's symbols, with parameters declared as
 * query parameters ({name: type}). Returns its errors, result columns, and the database symbols it
 * names: [{name, kind}] with kind 'table', 'view' or 'function'.
 */
function analyseQuery(text, globals, parameters = {}) {
  const K = loadKusto();
  const decl = Object.entries(parameters).map(([n, t]) => `${n}:${t}`).join(', ');
  const prefix = decl ? `declare query_parameters(${decl});\n` : '';
  const code = K.KustoCode.ParseAndAnalyze(prefix + text, globals);
  const db = globals.Database;
  const kinds = { [K.Symbols.SymbolKind.Table]: 'table', [K.Symbols.SymbolKind.MaterializedView]: 'view', [K.Symbols.SymbolKind.Function]: 'function' };
  const references = [];
  walk(code.Syntax, (_, node) => {
    const sym = node.ReferencedSymbol;
    if (node instanceof K.Syntax.NameReference && sym && kinds[sym.Kind] && db.GetMember(sym.Name) === sym) {
      references.push({ name: sym.Name, kind: kinds[sym.Kind] });
    }
  });
  return {
    errors: errorsOf(code, prefix + text, prefix ? -1 : 0),
    columns: columnsOf(code.ResultType),
    references,
  };
}

/** The query parameters a dashboard declares, as {variableName: kustoType}. */
function dashboardParameters(dashboard) {
  const out = {};
  for (const p of dashboard.parameters || []) {
    switch (p.kind) {
      case 'duration':
        out[p.beginVariableName] = 'datetime';
        out[p.endVariableName] = 'datetime';
        break;
      case 'string':
        out[p.variableName] = p.selectionType === 'array' ? 'dynamic' : 'string';
        break;
      default:
        throw new Error(`dashboard parameter ${p.displayName}: kind ${p.kind} is not one this check knows`);
    }
  }
  return out;
}

/**
 * Checks an Azure Data Explorer dashboard file against the script's analysis: references between
 * tiles, queries, pages and data sources; every query clean against the script's symbols and
 * naming only stored functions; every column a tile's visual options name present in its query's
 * result. Returns a list of problems.
 */
function checkDashboard(dashboard, analysis) {
  const problems = [];
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const ids = new Set();
  const byId = (list, what) => {
    const m = new Map();
    for (const x of list || []) {
      if (!uuid.test(x.id)) problems.push(`${what} ${x.id}: id is not a UUID`);
      if (ids.has(x.id)) problems.push(`${what} ${x.id}: id used twice`);
      ids.add(x.id);
      m.set(x.id, x);
    }
    return m;
  };
  for (const key of ['schema_version', 'title', 'tiles', 'queries', 'dataSources', 'pages', 'parameters']) {
    if (!(key in dashboard)) problems.push(`dashboard has no ${key}`);
  }
  const pages = byId(dashboard.pages, 'page');
  const sources = byId(dashboard.dataSources, 'data source');
  const queries = byId(dashboard.queries, 'query');
  const tiles = byId(dashboard.tiles, 'tile');
  for (const s of sources.values()) {
    for (const key of ['clusterUri', 'database', 'kind', 'name']) {
      if (!s[key]) problems.push(`data source ${s.name || s.id}: no ${key}`);
    }
  }
  let parameters = {};
  try {
    parameters = dashboardParameters(dashboard);
  } catch (err) {
    problems.push(err.message);
  }

  const results = new Map();
  for (const q of queries.values()) {
    if (!sources.has(q.dataSource && q.dataSource.dataSourceId)) problems.push(`query ${q.id}: data source ${JSON.stringify(q.dataSource)} is not declared`);
    const r = analyseQuery(q.text, analysis.globals, parameters);
    results.set(q.id, r);
    for (const e of r.errors) problems.push(`query ${q.id} line ${e.line}: ${e.code} ${e.message}`);
    for (const ref of r.references) {
      if (ref.kind !== 'function' || !analysis.functions.has(ref.name)) {
        problems.push(`query ${q.id}: reads ${ref.kind} ${ref.name}; tiles read the stored functions only`);
      }
    }
    const used = Object.keys(parameters).filter((p) => new RegExp(`\\b${p}\\b`).test(q.text));
    const declared = q.usedVariables || [];
    for (const p of used) if (!declared.includes(p)) problems.push(`query ${q.id}: uses ${p} but usedVariables does not list it`);
    for (const p of declared) if (!(p in parameters)) problems.push(`query ${q.id}: usedVariables lists ${p}, which no parameter declares`);
  }
  for (const t of tiles.values()) {
    const where = `tile ${JSON.stringify(t.title)}`;
    if (!pages.has(t.pageId)) problems.push(`${where}: page ${t.pageId} is not declared`);
    const ref = t.queryRef || {};
    if (ref.kind !== 'query' || !queries.has(ref.queryId)) {
      problems.push(`${where}: queryRef ${JSON.stringify(t.queryRef)} names no query`);
      continue;
    }
    const columns = new Set(results.get(ref.queryId).columns.map((c) => c.name));
    for (const [option, value] of Object.entries(t.visualOptions || {})) {
      if (!/Columns?$/.test(option) || value === null) continue;
      for (const col of [].concat(value)) {
        if (!columns.has(col)) problems.push(`${where}: ${option} names column ${col}, which its query does not return`);
      }
    }
  }
  return problems;
}

/** Reads a file relative to the repository root (two levels up from infra/adx). */
function repoFile(rel) {
  return fs.readFileSync(path.join(__dirname, '..', '..', rel), 'utf8');
}

module.exports = { loadKusto, schemaColumns, checkEventTable, analyseScript, analyseQuery, checkDashboard, dashboardParameters, repoFile, walk };
