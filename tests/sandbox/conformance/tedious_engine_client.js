// Drives Node's tedious against the sandbox's engine served over TDS (tds_engine_itest.cpp),
// printing one JSON line per event:
//   node tedious_engine_client.js <port> <scenario>
// scenarios: outputs (procedure and sp_executesql OUTPUT parameters), transactions (named
// transactions through transaction manager requests), reset (Connection.reset), empty (an empty
// result's column metadata), xml (an xml column and a CAST to xml).
'use strict';
const { Connection, Request, TYPES } = require('tedious');

const [port, scenario] = [Number(process.argv[2]), process.argv[3]];
const password = process.env.SANDBOX_PASSWORD || '';
const t0 = Date.now();
const emit = (event, data) => console.log(JSON.stringify({ event, t: Date.now() - t0, ...data }));

function connect() {
  return new Promise((resolve) => {
    const conn = new Connection({
      server: '127.0.0.1',
      authentication: { type: 'default', options: { userName: 'sa', password } },
      options: { port, encrypt: false, trustServerCertificate: true, connectTimeout: 10000, requestTimeout: 20000,
                 database: 'shop' },
    });
    conn.on('errorMessage', (m) => emit('error', { number: m.number, state: m.state, class: m.class, message: m.message }));
    conn.on('resetConnection', () => emit('reset_ack', {}));
    conn.on('databaseChange', (db) => emit('database', { name: db }));
    conn.connect((err) => {
      if (err) emit('connect_failed', { message: err.message, code: err.code ?? null });
      else emit('connected', {});
      resolve(err ? null : conn);
    });
  });
}

// Runs one request; `how` is 'batch', 'sql' (sp_executesql) or 'proc' (an RPC of the procedure).
function run(conn, label, sql, { how = 'batch', params = [], outputs = [] } = {}) {
  return new Promise((resolve) => {
    const req = new Request(sql, (err, rowCount) => {
      emit('request_done', { label, error: err ? err.message : null, rowCount });
      resolve();
    });
    for (const p of params) req.addParameter(p.name, p.type, p.value, p.options);
    for (const p of outputs) req.addOutputParameter(p.name, p.type, p.value ?? null, p.options);
    req.on('row', (cols) => {
      const row = {};
      for (const c of cols) row[c.metadata.colName] = typeof c.value === 'bigint' ? c.value.toString() : c.value;
      emit('row', { label, row });
    });
    req.on('columnMetadata', (cols) => {
      const list = Array.isArray(cols) ? cols : Object.values(cols);
      emit('columns', { label, columns: list.map((c) => ({ name: c.colName, type: c.type.name, precision: c.precision ?? null,
                                                           scale: c.scale ?? null, length: c.dataLength ?? null })) });
    });
    req.on('returnValue', (name, value, metadata) =>
      emit('return_value', { label, name, value: typeof value === 'bigint' ? value.toString() : value, type: metadata.type.name }));
    req.on('doneProc', (rowCount, more, returnStatus) => emit('done_proc', { label, returnStatus: returnStatus ?? null }));
    if (how === 'batch') conn.execSqlBatch(req);
    else if (how === 'sql') conn.execSql(req);
    else conn.callProcedure(req);
  });
}

function tx(conn, what, name) {
  return new Promise((resolve) => {
    const cb = (err) => { emit('transaction', { what, name: name ?? null, error: err ? err.message : null }); resolve(); };
    if (what === 'begin') conn.beginTransaction(cb, name);
    else if (what === 'commit') conn.commitTransaction(cb, name);
    else conn.rollbackTransaction(cb, name);
  });
}

function reset(conn) {
  return new Promise((resolve) => conn.reset((err) => { emit('reset_done', { error: err ? err.message : null }); resolve(); }));
}

async function main() {
  const conn = await connect();
  if (!conn) return;
  if (scenario === 'outputs') {
    await run(conn, 'proc', 'dbo.OrderTotal', {
      how: 'proc',
      params: [{ name: 'min', type: TYPES.Decimal, value: 1, options: { precision: 10, scale: 2 } }],
      outputs: [{ name: 'total', type: TYPES.Decimal, options: { precision: 10, scale: 2 } }, { name: 'n', type: TYPES.Int }],
    });
    await run(conn, 'executesql', 'SELECT @cnt = COUNT(*) FROM dbo.Orders WHERE amount > @lo', {
      how: 'sql',
      params: [{ name: 'lo', type: TYPES.Int, value: 5 }],
      outputs: [{ name: 'cnt', type: TYPES.Int }],
    });
    await run(conn, 'not_output', 'dbo.OrderTotal', {
      how: 'proc',
      outputs: [{ name: 'min', type: TYPES.Decimal, value: 1, options: { precision: 10, scale: 2 } },
                { name: 'total', type: TYPES.Decimal, options: { precision: 10, scale: 2 } }, { name: 'n', type: TYPES.Int }],
    });
  } else if (scenario === 'transactions') {
    await tx(conn, 'begin', 'order_batch');
    await run(conn, 'insert_kept', 'INSERT INTO dbo.Orders(amount) VALUES (@a)', { how: 'sql',
      params: [{ name: 'a', type: TYPES.Decimal, value: 7.5, options: { precision: 10, scale: 2 } }] });
    await tx(conn, 'commit', 'order_batch');
    await tx(conn, 'begin', 'undone');
    await run(conn, 'insert_undone', 'INSERT INTO dbo.Orders(amount) VALUES (99.00)');
    await run(conn, 'trancount_in', 'SELECT @@TRANCOUNT AS n');
    await tx(conn, 'rollback', 'undone');
    await run(conn, 'count', 'SELECT COUNT(*) AS n, @@TRANCOUNT AS tc FROM dbo.Orders');
  } else if (scenario === 'reset') {
    await run(conn, 'before', 'CREATE DATABASE other');
    await run(conn, 'use', 'USE other');
    await tx(conn, 'begin', 'pooled');
    await reset(conn);
    await run(conn, 'after', 'SELECT DB_NAME() AS db, @@TRANCOUNT AS tc, @@OPTIONS AS options');
  } else if (scenario === 'empty') {
    await run(conn, 'empty', 'SELECT id, amount, note FROM dbo.Orders WHERE id < 0');
  } else if (scenario === 'xml') {
    await run(conn, 'xml', "SELECT id, spec, CAST(N'<a/>' AS xml) AS cast_xml FROM dbo.Specs ORDER BY id");
  }
  conn.close();
}

main().catch((e) => { emit('crash', { message: String(e && e.stack || e) }); process.exitCode = 1; });
