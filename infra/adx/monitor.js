// Offline checks of the deployment's monitoring queries with the same Kusto analyzer as kql.js: the
// log alert queries in infra/modules/alerts.bicep and every query of infra/workbook.json, analysed
// against the Log Analytics tables they read (infra/adx/test/monitor-tables.json, columns and types
// from Microsoft's table reference). Azure accepts both files without looking at the queries (the
// alert rules set skipQueryValidation, a workbook runs its queries only when opened), so a wrong
// column or table would show only as an alert that never fires or an empty chart.
'use strict';

const { analyseScript, analyseQuery, loadKusto, walk } = require('./kql.js');

/**
 * The analyzer's symbols for a Log Analytics workspace holding the tables of a monitor-tables.json
 * document ({tables: {Name: {columns: [[column, type]]}}}), built as the database script's are.
 */
function workspaceGlobals(doc) {
  const script = Object.entries(doc.tables)
    .map(([name, t]) => `.create table ['${name}'] (${t.columns.map(([c, type]) => `['${c}']:${type}`).join(', ')})`)
    .join('\n\n');
  const a = analyseScript(script, { database: 'workspace' });
  if (a.problems.length > 0) throw new Error(`monitor tables: ${a.problems.join('; ')}`);
  return a.globals;
}

/**
 * Reads the Bicep string literal that starts at text[i] (a quote). Returns its parts (text, and
 * the expressions of its ${...} interpolations) and the index after its closing quote. A
 * multi-line '''...''' string has neither escapes nor interpolations.
 */
function bicepString(text, i) {
  if (text.startsWith("'''", i)) {
    const end = text.indexOf("'''", i + 3);
    if (end < 0) throw new Error(`unterminated ''' string at offset ${i}`);
    return { parts: [{ text: text.slice(i + 3, end).replace(/^\r?\n/, '') }], end: end + 3 };
  }
  const parts = [];
  let s = '';
  const escapes = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", $: '$' };
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === "'") {
      parts.push({ text: s });
      return { parts, end: j + 1 };
    }
    if (c === '\n') break;
    if (c === '\\') {
      const e = text[++j];
      if (e in escapes) s += escapes[e];
      else if (e === 'u' && text[j + 1] === '{') {
        const close = text.indexOf('}', j);
        s += String.fromCodePoint(parseInt(text.slice(j + 2, close), 16));
        j = close;
      } else throw new Error(`unknown escape \\${e} at offset ${j}`);
    } else if (c === '$' && text[j + 1] === '{') {
      // An interpolation ends at its matching brace; strings inside it may hold braces.
      let depth = 0;
      let k = j + 1;
      for (; k < text.length; k++) {
        if (text[k] === "'") k = bicepString(text, k).end - 1;
        else if (text[k] === '{') depth++;
        else if (text[k] === '}' && --depth === 0) break;
      }
      parts.push({ text: s }, { expr: text.slice(j + 2, k).trim() });
      s = '';
      j = k;
    } else s += c;
  }
  throw new Error(`unterminated string at offset ${i}`);
}

/** The line (1-based) of offset i in text. */
const lineAt = (text, i) => text.slice(0, i).split('\n').length;

/**
 * Every `query:` property of a Bicep file, in order: {line, parts} for a string literal (see
 * bicepString), {line, expr} for any other value. Comments and the inside of strings are skipped,
 * so only real properties count.
 */
function bicepQueryProperties(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('//', i)) i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`unterminated /* comment at line ${lineAt(text, i)}`);
      i = end + 1;
    }
    else {
      const m = /^(?:query|'query')\s*:\s*/.exec(text.slice(i, i + 40));
      if (!m && text[i] === "'") {
        i = bicepString(text, i).end - 1;
        continue;
      }
      if (!m || /[\w.]/.test(text[i - 1] || '')) continue;
      const v = i + m[0].length;
      if (text[v] === "'") {
        const s = bicepString(text, v);
        out.push({ line: lineAt(text, i), parts: s.parts });
        i = s.end - 1;
      } else {
        const eol = text.indexOf('\n', v);
        out.push({ line: lineAt(text, i), expr: text.slice(v, eol < 0 ? text.length : eol).trim() });
        i = v;
      }
    }
  }
  return out;
}

/**
 * The parameters and variables a Bicep file declares: {params: {name: {type, value}}, vars:
 * {name: expression}}. A parameter's value is its default when that is a literal, else the
 * bound its @minValue (or @maxValue) decorator sets, else its first @allowed value: a value the
 * deployment could really pass.
 */
function bicepDeclarations(text) {
  const params = {};
  const vars = {};
  let decorators = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.startsWith('@')) {
      decorators.push(t);
      continue;
    }
    const p = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/.exec(t);
    if (p) {
      const [, name, type, def] = p;
      const bound = decorators.map((d) => /^@(?:minValue|maxValue)\((-?\d+)\)/.exec(d)).find(Boolean);
      const allowed = decorators.map((d) => /^@allowed\(\[\s*('(?:[^'\\]|\\.)*'|-?\d+|true|false)/.exec(d)).find(Boolean);
      let value;
      if (def !== undefined && /^('(?:[^'\\$]|\\.)*'|-?\d+|true|false)$/.test(def.trim())) value = literalValue(def.trim());
      else if (bound) value = Number(bound[1]);
      else if (allowed) value = literalValue(allowed[1]);
      params[name] = { type, value };
    }
    const v = /^var\s+(\w+)\s*=\s*(.+)$/.exec(t);
    if (v) vars[v[1]] = v[2].trim();
    if (t !== '') decorators = [];
  }
  return { params, vars };
}

function literalValue(lit) {
  if (lit.startsWith("'")) return bicepString(lit, 0).parts[0].text;
  if (lit === 'true' || lit === 'false') return lit === 'true';
  return Number(lit);
}

/**
 * The value of a Bicep interpolation as the deployment would render it: a parameter (see
 * bicepDeclarations), or a variable whose expression is a literal or integer arithmetic over
 * parameters and variables. Anything else throws, naming the expression, so that a new kind of
 * interpolation fails the check instead of being guessed.
 */
function bicepValue(expr, decls, seen = new Set()) {
  const fail = (why) => {
    throw new Error(`cannot give \${${expr}} a value: ${why}`);
  };
  if (/^-?\d+$/.test(expr) || /^'[^']*'$/.test(expr) || expr === 'true' || expr === 'false') return literalValue(expr);
  if (/^\w+$/.test(expr)) {
    if (seen.has(expr)) fail('it refers to itself');
    if (expr in decls.params) {
      const p = decls.params[expr];
      if (p.value !== undefined) return p.value;
      switch (p.type) {
        case 'int': return 1;
        case 'bool': return true;
        default: fail(`parameter ${expr} (${p.type}) has no literal default, bound or @allowed value`);
      }
    }
    if (expr in decls.vars) {
      try {
        return bicepValue(decls.vars[expr], decls, new Set([...seen, expr]));
      } catch (err) {
        fail(`variable ${expr}: ${err.message}`);
      }
    }
    fail(`${expr} is neither a parameter nor a variable of the file`);
  }
  return arithmetic(expr, (name) => {
    const v = bicepValue(name, decls, seen);
    if (!Number.isInteger(v)) fail(`${name} is not an int`);
    return v;
  }, fail);
}

/** Integer arithmetic (+ - * / % and parentheses) over literals and names, as Bicep computes it. */
function arithmetic(expr, valueOf, fail) {
  const tokens = expr.match(/\d+|[A-Za-z_]\w*|[()+\-*/%]|\S/g) || [];
  let i = 0;
  const primary = () => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') fail('unbalanced parentheses');
      return v;
    }
    if (t === '-') return -primary();
    if (/^\d+$/.test(t || '')) return Number(t);
    if (/^[A-Za-z_]\w*$/.test(t || '')) return valueOf(t);
    return fail('only literals, parameters, variables and integer arithmetic are known');
  };
  const product = () => {
    let v = primary();
    while (['*', '/', '%'].includes(tokens[i])) {
      const op = tokens[i++];
      const r = primary();
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = () => {
    let v = product();
    while (['+', '-'].includes(tokens[i])) v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) fail('only literals, parameters, variables and integer arithmetic are known');
  return v;
}

/**
 * The log alert queries of a Bicep file: {line, text} for each `query:` string literal, its
 * interpolations replaced by their values (bicepValue). The other `query:` properties are
 * returned apart, so a test can require that each only passes a literal on.
 */
function bicepQueries(text) {
  const decls = bicepDeclarations(text);
  const queries = [];
  const others = [];
  for (const p of bicepQueryProperties(text)) {
    if (!p.parts) {
      others.push(p);
      continue;
    }
    const q = p.parts.map((x) => ('expr' in x ? String(bicepValue(x.expr, decls)) : x.text)).join('');
    queries.push({ line: p.line, text: q });
  }
  return { queries, others };
}

// Workbook parameter types (Azure Monitor workbooks, KqlParameterItem/1.0): 4 is the time range
// picker. The only one this check expands; others fail it until it learns them.
const timeRangeType = 4;

/** A duration in milliseconds as a KQL timespan literal (1d, 6h, 90m, ...). */
function timespan(ms) {
  for (const [unit, size] of [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]]) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Expands the workbook parameters in a query as a workbook does when it runs it. A time range
 * parameter {TimeRange} (and {TimeRange:query}, {TimeRange:value}) becomes `> ago(1d)` for a
 * last-24-hours value (Microsoft, azure-monitor-docs visualize/workbooks-time.md); :start and :end
 * become datetimes, :grain a timespan. A name no parameter declares is left as written, as a
 * workbook leaves it, and the analyzer then rejects the braces.
 */
function expandWorkbookParameters(query, parameters) {
  return query.replace(/\{(\w+)(?::(\w+))?\}/g, (whole, name, option) => {
    const p = parameters.get(name);
    if (!p) return whole;
    if (p.type !== timeRangeType) throw new Error(`workbook parameter ${name}: type ${p.type} is not one this check expands`);
    const ms = (p.value && p.value.durationMs) || 86400000;
    const end = new Date(Date.UTC(2026, 0, 2));
    switch (option || 'query') {
      case 'query':
      case 'value':
        return `> ago(${timespan(ms)})`;
      case 'start':
        return `datetime(${new Date(end - ms).toISOString()})`;
      case 'end':
        return `datetime(${end.toISOString()})`;
      case 'grain':
        return timespan(Math.max(60000, Math.round(ms / 100 / 60000) * 60000));
      case 'label':
        return whole;
      default:
        throw new Error(`workbook parameter ${name}: option ${option} is not one this check expands`);
    }
  });
}

/**
 * Every query of a workbook, in document order, as {where (a JSON path), query (as written), text
 * (parameters expanded)}: each object with a "query" anywhere in it (items, nested groups, and
 * parameters whose values come from a query). A query that is not a Logs (KQL) query throws: the
 * check would not know its language.
 */
function workbookQueries(workbook) {
  const parameters = new Map();
  const declare = (items) => {
    for (const item of items || []) {
      const c = item.content || {};
      for (const p of c.parameters || []) parameters.set(p.name, p);
      declare(c.items);
    }
  };
  declare(workbook.items);
  const out = [];
  const visit = (node, where) => {
    if (Array.isArray(node)) node.forEach((x, i) => visit(x, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      if ('query' in node) {
        if (node.queryType !== 0) throw new Error(`workbook ${where}: queryType ${node.queryType} is not a Logs (KQL) query`);
        out.push({ where, query: node.query, text: expandWorkbookParameters(node.query, parameters) });
      }
      for (const [k, v] of Object.entries(node)) visit(v, `${where}.${k}`);
    }
  };
  visit(workbook, '$');
  return out;
}

/** The ```kusto blocks of a Markdown file (the queries a guide tells its reader to run): [{line, text}]. */
function markdownKustoBlocks(text) {
  const out = [];
  const re = /^```(?:kusto|kql)\s*\n([\s\S]*?)^```/gim;
  for (let m; (m = re.exec(text));) out.push({ line: lineAt(text, m.index) + 1, text: m[1] });
  return out;
}

/**
 * Problems of a monitoring query analysed against the workspace: its error diagnostics, as
 * ['line N: KSxxx ...'], and for a log alert query (alert: true) each search or union operator,
 * which log search alert rules refuse outside cross-resource queries (Microsoft,
 * azure-monitor-docs alerts/alerts-log-query.md, "Log query constraints"; this deployment has none).
 */
function checkMonitorQuery(text, globals, { alert = false } = {}) {
  const problems = analyseQuery(text, globals).errors.map((e) => `line ${e.line}: ${e.code} ${e.message}`);
  if (alert) {
    const K = loadKusto();
    walk(K.KustoCode.Parse(text).Syntax, (_, node) => {
      for (const [op, type] of [['search', K.Syntax.SearchOperator], ['union', K.Syntax.UnionOperator]]) {
        if (node instanceof type) {
          problems.push(`line ${lineAt(text, node.TextStart)}: a log alert query may not use ${op} (alerts-log-query.md); start it with the table it reads`);
        }
      }
    });
  }
  return problems;
}

module.exports = { workspaceGlobals, bicepQueryProperties, bicepDeclarations, bicepValue, bicepQueries, expandWorkbookParameters, workbookQueries, markdownKustoBlocks, checkMonitorQuery };
