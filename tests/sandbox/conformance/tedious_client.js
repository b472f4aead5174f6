// Drives Node's tedious against the sandbox TDS server and prints one JSON line per
// event, with a millisecond timestamp, for tds_conformance_itest.cpp to judge.
//   node tedious_client.js <port> <scenario>
// scenarios: session (types, rpc, print, error, slow, cancel, transaction), wrong_password, encrypt,
//   tls (encrypt: true, the certificate verified against the CA in SANDBOX_CA, then SELECT 1)
'use strict';
const { Connection, Request, TYPES } = require('tedious');

const [port, scenario] = [Number(process.argv[2]), process.argv[3]];
const password = process.env.SANDBOX_PASSWORD || '';
const t0 = Date.now();
const emit = (event, data) => console.log(JSON.stringify({ event, t: Date.now() - t0, ...data }));

function encode(v) {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (v instanceof Date) return { date: v.toISOString(), nanosecondDelta: v.nanosecondDelta ?? null };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function connect(opts = {}) {
  return new Promise((resolve) => {
    const conn = new Connection({
      server: '127.0.0.1',
      authentication: { type: 'default', options: { userName: 'sa', password } },
      options: { port, encrypt: false, trustServerCertificate: true, connectTimeout: 10000, requestTimeout: 20000,
                 database: 'master', ...opts },
    });
    conn.on('infoMessage', (m) => emit('info', { number: m.number, state: m.state, class: m.class, message: m.message }));
    conn.on('errorMessage', (m) => emit('error', { number: m.number, state: m.state, class: m.class, message: m.message }));
    conn.on('databaseChange', (db) => emit('database', { name: db }));
    conn.connect((err) => {
      if (err) emit('connect_failed', { message: err.message, code: err.code ?? null });
      else emit('connected', {});
      resolve(err ? null : conn);
    });
  });
}

function run(conn, label, sql, { batch = true, params = [], cancelAfterMs = 0 } = {}) {
  return new Promise((resolve) => {
    const req = new Request(sql, (err, rowCount) => {
      emit('request_done', { label, error: err ? err.message : null, code: err ? err.code ?? null : null, rowCount });
      resolve();
    });
    for (const p of params) req.addParameter(p.name, p.type, p.value, p.options);
    req.on('row', (cols) => {
      const row = {};
      for (const c of cols) row[c.metadata.colName] = encode(c.value);
      emit('row', { label, row });
    });
    if (batch) conn.execSqlBatch(req); else conn.execSql(req);
    if (cancelAfterMs) setTimeout(() => { emit('cancel_sent', { label }); conn.cancel(); }, cancelAfterMs);
  });
}

function tx(conn, what) {
  return new Promise((resolve) => {
    const cb = (err) => { emit('transaction', { what, error: err ? err.message : null }); resolve(); };
    if (what === 'begin') conn.beginTransaction(cb);
    else if (what === 'commit') conn.commitTransaction(cb);
    else conn.rollbackTransaction(cb);
  });
}

async function main() {
  if (scenario === 'tls') {
    const ca = require('fs').readFileSync(process.env.SANDBOX_CA);
    const conn = await connect({ encrypt: true, trustServerCertificate: false, cryptoCredentialsDetails: { ca } });
    if (!conn) return;
    await run(conn, 'tls', 'SELECT 1');
    conn.close();
    return;
  }
  if (scenario === 'wrong_password' || scenario === 'encrypt') {
    const conn = await connect(scenario === 'encrypt' ? { encrypt: true } : {});
    if (conn) conn.close();
    return;
  }
  const conn = await connect();
  if (!conn) return;
  await run(conn, 'types', 'SELECT * FROM all_types');
  await run(conn, 'rpc', 'SELECT @i, @b, @s, @n, @d, @f, @g, @dt, @bin, @nul', {
    batch: false,
    params: [
      { name: 'i', type: TYPES.Int, value: -42 },
      { name: 'b', type: TYPES.BigInt, value: '9007199254740993' },
      { name: 's', type: TYPES.NVarChar, value: 'Grüße ✓' },
      { name: 'n', type: TYPES.Decimal, value: 12345.678, options: { precision: 10, scale: 3 } },
      { name: 'd', type: TYPES.DateTime2, value: new Date(Date.UTC(2024, 1, 29, 13, 45, 10, 123)), options: { scale: 3 } },
      { name: 'f', type: TYPES.Float, value: 2.5 },
      { name: 'g', type: TYPES.UniqueIdentifier, value: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
      { name: 'dt', type: TYPES.DateTime, value: new Date(Date.UTC(2024, 1, 29, 13, 45, 10, 123)) },
      { name: 'bin', type: TYPES.VarBinary, value: Buffer.from('deadbeef', 'hex') },
      { name: 'nul', type: TYPES.Int, value: null },
    ],
  });
  await run(conn, 'print', "PRINT 'hello from the fake'");
  await run(conn, 'error', 'RAISERROR');
  await run(conn, 'slow', 'EXEC slow');
  await run(conn, 'cancel', 'WAITFOR DELAY', { cancelAfterMs: 300 });
  await run(conn, 'after_cancel', "PRINT 'still alive'");
  await tx(conn, 'begin');
  await tx(conn, 'commit');
  await run(conn, 'use', 'USE otherdb');
  conn.close();
}

main().catch((e) => { emit('crash', { message: String(e && e.stack || e) }); process.exitCode = 1; });
