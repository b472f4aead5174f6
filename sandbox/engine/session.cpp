// The session executor: dispatches each T-SQL statement, applies writes in short SQLite
// transactions and logs every row change (README.md "Transactions and locking", "The log").
#include "engine/session.hpp"
#include "engine/database_options.hpp"
#include "engine/server_services.hpp"
#include "engine/lock_resource.hpp"
#include "engine/parse_util.hpp"
#include "engine/tempdb.hpp"

#include <algorithm>
#include <exception>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace sandbox::engine {

namespace {

std::string statement_head(const Statement& st, std::size_t n = 3) {
  std::string s;
  for (std::size_t i = 0; i < st.tokens.size() && i < n; ++i) {
    if (st.tokens[i].kind != TokKind::word) break;
    s += (s.empty() ? "" : " ") + upper(st.tokens[i].text);
  }
  return s;
}

Cell read_value(sqlite3_value* v) {
  Cell c;
  c.type = sqlite3_value_type(v);
  switch (c.type) {
    case SQLITE_INTEGER: c.i = sqlite3_value_int64(v); break;
    case SQLITE_FLOAT: c.d = sqlite3_value_double(v); break;
    case SQLITE_TEXT: c.s.assign(reinterpret_cast<const char*>(sqlite3_value_text(v)), static_cast<std::size_t>(sqlite3_value_bytes(v))); break;
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_value_blob(v));
      c.s.assign(p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v)));
      break;
    }
    default: break;
  }
  return c;
}

Cell column_cell(sqlite3_stmt* st, int i) { return read_value(sqlite3_column_value(st, i)); }

void bind_cell(Stmt& s, int i, const Cell& v) {
  switch (v.type) {
    case SQLITE_INTEGER: s.bind(i, v.i); break;
    case SQLITE_FLOAT: s.bind(i, v.d); break;
    case SQLITE_TEXT: s.bind(i, v.s); break;
    case SQLITE_BLOB: sqlite3_bind_blob(s.get(), i, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    default: s.bind_null(i); break;
  }
}

void preupdate(void* ctx, sqlite3* db, int op, const char* zdb, const char* ztab, sqlite3_int64 k1, sqlite3_int64 k2) {
  auto* s = static_cast<SessionImpl*>(ctx);
  const std::string schema = zdb;
  // main: the user database (logged); tempdb: temporary tables (never logged, kept only so that
  // ROLLBACK can undo them, tempdb.hpp).
  if (!s->capturing() || (schema != "main" && schema != "tempdb")) return;
  std::string table = ztab;
  if (table.rfind("__m2r", 0) == 0 || table.rfind("sqlite_", 0) == 0) return;
  Change ch;
  ch.op = op;
  ch.table = table;
  ch.key_before = k1;
  ch.key_after = k2;
  const int n = sqlite3_preupdate_count(db);
  for (int i = 0; i < n; ++i) {
    sqlite3_value* v = nullptr;
    if (op != SQLITE_INSERT && sqlite3_preupdate_old(db, i, &v) == SQLITE_OK && v) ch.before.push_back(read_value(v));
    v = nullptr;
    if (op != SQLITE_DELETE && sqlite3_preupdate_new(db, i, &v) == SQLITE_OK && v) ch.after.push_back(read_value(v));
  }
  if (schema == "tempdb") s->capture_temp(std::move(ch));
  else s->capture(std::move(ch));
}

}  // namespace

namespace {
// SET FMTONLY ON: a statement's columns reach the client, its rows do not.
class MetadataOnlySink final : public ForwardingSink {
 public:
  explicit MetadataOnlySink(ResultSink& inner) : ForwardingSink(inner) {}
  void row(const std::vector<Value>&) override {}
  void done(DoneKind k, std::optional<std::int64_t>, bool e) override { m_inner.done(k, std::nullopt, e); }
};
}  // namespace

Cell convert_cell(sqlite3* c, const Cell& v, const std::optional<ColumnType>& from, const ColumnType& to) {
  Stmt s(c, "SELECT m2r_cast(?1, ?2, ?3)");
  bind_cell(s, 1, v);
  s.bind(2, from ? type_to_string(*from) : std::string("?")).bind(3, type_to_string(to));
  s.step();
  return column_cell(s.get(), 0);
}

bool has_nolock_hint(const std::vector<Token>& t) {
  for (std::size_t i = 1; i < t.size(); ++i) {
    if ((t[i].is("NOLOCK") || t[i].is("READUNCOMMITTED")) && (is_sym(t[i - 1], "(") || is_sym(t[i - 1], ","))) return true;
  }
  return false;
}

namespace {

ColumnType storage_type(const Cell& c) {
  ColumnType t;
  switch (c.type) {
    case SQLITE_INTEGER: t.type = (c.i > 2147483647LL || c.i < -2147483648LL) ? SqlType::bigint : SqlType::int_; break;
    case SQLITE_FLOAT: t.type = SqlType::float_; break;
    case SQLITE_BLOB: t.type = SqlType::varbinary; t.length = k_max_length; break;
    case SQLITE_TEXT: t.type = SqlType::nvarchar; t.length = c.s.size() > 4000 ? k_max_length : 4000; break;
    default: t.type = SqlType::int_; break;
  }
  return t;
}

// What a table's row records lock (lock_resource.hpp): its object, and the positions of its
// clustered key's columns in the row images (none: a heap, whose rows are RIDs).
struct LockShape {
  std::int64_t object_id = 0;
  std::vector<std::size_t> key_positions;
};

LockShape lock_shape(sqlite3* c, const std::string& sqlite_table, const std::vector<std::string>& columns) {
  LockShape shape;
  Stmt o(c, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
  o.bind(1, sqlite_table);
  if (o.step()) shape.object_id = o.i64(0);
  Stmt k(c, "SELECT cl.name FROM __m2r_index_columns ic JOIN __m2r_columns cl ON cl.object_id = ic.object_id"
            " AND cl.column_id = ic.column_id WHERE ic.object_id = ? AND ic.index_id = 1 ORDER BY ic.key_ordinal");
  k.bind(1, shape.object_id);
  while (k.step()) {
    for (std::size_t p = 0; p < columns.size(); ++p) {
      if (iequals(columns[p], k.str(0))) shape.key_positions.push_back(p);
    }
  }
  return shape;
}

// [Lock Information] of the record of one change: the rows it locked X (both keys when an
// update moves a row to another key).
std::string lock_information(int db_id, const LockShape& shape, const Change& ch) {
  std::vector<std::string> keys;
  std::vector<std::int64_t> rids;
  const auto add = [&](const std::vector<Cell>& image, std::int64_t row_id) {
    if (shape.key_positions.empty()) {
      if (std::find(rids.begin(), rids.end(), row_id) == rids.end()) rids.push_back(row_id);
      return;
    }
    std::vector<const Cell*> key;
    for (const auto p : shape.key_positions) {
      if (p < image.size()) key.push_back(&image[p]);
    }
    const std::string h = key_hash(key);
    if (std::find(keys.begin(), keys.end(), h) == keys.end()) keys.push_back(h);
  };
  if (!ch.before.empty()) add(ch.before, ch.key_before);
  if (!ch.after.empty()) add(ch.after, ch.key_after);
  return row_lock_information(db_id, shape.object_id, keys, rids);
}

std::string row_json(const std::vector<std::string>& cols, const std::vector<Cell>& cells) {
  std::string out = "{";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i < cols.size() && cols[i].empty()) continue;  // a computed column (image_columns)
    if (out.size() > 1) out += ",";
    // Names are the client's bytes: not valid UTF-8 is replaced (U+FFFD), as cell_json does, rather
    // than thrown (nlohmann's type_error would escape the statement).
    out += nlohmann::json(i < cols.size() ? cols[i] : "c" + std::to_string(i)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           ":" + cell_json(cells[i]);
  }
  return out + "}";
}

void bind_json(Stmt& s, int i, const nlohmann::json& v) {
  if (v.is_null()) s.bind_null(i);
  else if (v.is_number_integer()) s.bind(i, v.get<std::int64_t>());
  else if (v.is_number()) s.bind(i, v.get<double>());
  else if (v.is_string()) s.bind(i, v.get<std::string>());
  else if (v.is_object() && v.contains("$binary")) {
    std::string hex = v["$binary"].get<std::string>().substr(2), raw;
    for (std::size_t k = 0; k + 1 < hex.size(); k += 2) raw += static_cast<char>(std::stoi(hex.substr(k, 2), nullptr, 16));
    sqlite3_bind_blob(s.get(), i, raw.data(), static_cast<int>(raw.size()), SQLITE_TRANSIENT);
  } else s.bind(i, v.dump());
}

std::string display_table(const std::string& sqlite_name) {
  return sqlite_name.find('.') == std::string::npos ? "dbo." + sqlite_name : sqlite_name;
}

}  // namespace

SessionImpl::SessionImpl(InstanceImpl& inst, std::string database, std::string user)
    : m_inst(inst), m_db(std::move(database)), m_login_db(m_db), m_user(std::move(user)), m_spid(inst.next_spid()) {
  // In the registry from the start, in no database until login admits it (enter_database).
  m_entry = m_inst.sessions().add(m_spid, m_user, now_datetime());
  m_entry->set_end_work([this] { end_killed_work(); });
}

SessionImpl::~SessionImpl() {
  {
    // Held to the end of the teardown, so that a killer waiting for this session finds its
    // transaction already rolled back when it gets in (and runs nothing of a session going away).
    std::lock_guard<std::recursive_timed_mutex> activity(m_entry->activity());
    m_entry->detach();
    // An open transaction rolls back when its connection goes away, and its locks go with it
    // (waiters wake).
    try {
      rollback_transaction();
    } catch (...) {
    }
    m_inst.locks().release_all(m_spid);
    // The session's temporary tables go with it (tempdb.hpp).
    if (!m_conns.empty()) {
      try {
        drop_session_temp_tables(m_conns.begin()->second, m_spid);
      } catch (...) {
      }
    }
    for (auto& [k, c] : m_conns) sqlite3_close_v2(c);
  }
  m_inst.sessions().remove(m_spid);
}

const Variable* SessionImpl::variable(const std::string& name) const {
  auto it = m_vars.find(name);
  return it == m_vars.end() ? nullptr : &it->second;
}

void SessionImpl::capture(Change&& change) { m_changes.push_back(std::move(change)); }

std::shared_ptr<Database> SessionImpl::cur_db() {
  auto db = m_inst.find(m_db);
  if (!db) raise(911, 16, "Database '" + m_db + "' does not exist. Make sure that the name is entered correctly.");
  return db;
}

void SessionImpl::ensure_not_restoring(const std::string& name) {
  auto db = m_inst.find(name);
  if (!db) raise(911, 16, "Database '" + name + "' does not exist. Make sure that the name is entered correctly.");
  if (db->restoring) raise(927, 14, "Database '" + name + "' cannot be opened. It is in the middle of a restore.");
}

int SessionImpl::interrupt_if_cancelled(void* session) {
  auto* s = static_cast<SessionImpl*>(session);
  if (!s->m_select_interruptible || !s->m_request_sink || !s->m_request_sink->cancelled()) return 0;
  s->m_select_interrupted = true;
  return 1;  // the step ends with SQLITE_INTERRUPT
}

sqlite3* SessionImpl::conn(const std::string& name) {
  const std::string key = lower(name);
  auto it = m_conns.find(key);
  auto db = m_inst.find(name);
  if (!db) raise(911, 16, "Database '" + name + "' does not exist. Make sure that the name is entered correctly.");
  if (it != m_conns.end()) {
    if (m_conn_gen[key] == db->generation) return it->second;
    sqlite3_close_v2(it->second);  // the database was dropped and restored since
    m_conns.erase(it);
  }
  sqlite3* c = open_connection(db->path);
  try {
    if (key != "msdb") exec(c, "ATTACH DATABASE " + quote_literal(m_inst.msdb_path()) + " AS msdb");
    // master's catalog, read by master..sysobjects from any other database.
    auto master = key == "master" ? nullptr : m_inst.find("master");
    if (master) exec(c, "ATTACH DATABASE " + quote_literal(master->path) + " AS m2r_master");
    attach_tempdb(c, m_inst.config().data_dir);  // temporary tables (tempdb.hpp)
    register_functions(c, this);
    register_control_flow_functions(c, this);
    sqlite3_progress_handler(c, 20000, &SessionImpl::interrupt_if_cancelled, this);
    create_catalog_views(c, key != "msdb");
    if (master) exec(c, sysobjects_view("master.sys.sysobjects", "m2r_master"));
    create_server_services_view(c);  // server_services.hpp
    // sys.databases.is_accelerated_database_recovery_on exists from SQL Server 2019 (15.x) on
    // (docs/facts.md §13): an older instance answers 207 for it.
    if (m_inst.major_version() < 2019) exec(c, "ALTER TABLE temp.\"sys.databases\" DROP COLUMN is_accelerated_database_recovery_on");
    create_principal_views(c);
    register_principal_functions(c, this);
    sqlite3_preupdate_hook(c, preupdate, this);
    exec(c, "PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = OFF;");
  } catch (...) {
    sqlite3_close_v2(c);
    throw;
  }
  m_conns[key] = c;
  m_conn_gen[key] = db->generation;
  return c;
}

SessionImpl::RequestScope::RequestScope(SessionImpl& s) : m_s(s) {
  if (m_s.m_request_depth++ == 0) {
    auto db = m_s.m_inst.find(m_s.m_db);
    m_s.m_inst.requests().begin(m_s.m_spid, db ? db->id : 0);
  }
}

SessionImpl::RequestScope::~RequestScope() {
  if (--m_s.m_request_depth == 0) m_s.m_inst.requests().end(m_s.m_spid);
}

namespace {

// sys.dm_exec_requests.command for a statement (Microsoft's values: SELECT, INSERT, UPDATE,
// DELETE, BACKUP DATABASE, BACKUP LOG, RESTORE DATABASE, RESTORE LOG, DBCC, WAITFOR, ...).
std::string request_command(const std::vector<Token>& t, const std::string& head) {
  if ((head == "BACKUP" || head == "RESTORE") && t.size() > 1 && (t[1].is("DATABASE") || t[1].is("LOG"))) {
    return head + " " + upper(t[1].text);
  }
  if (head == "EXEC") return "EXECUTE";
  return head;
}

}  // namespace

void SessionImpl::execute_batch(const std::string& sql, ResultSink& client_sink) {
  ActivityScope activity(*m_entry);
  KillAwareSink sink(client_sink, *m_entry);
  m_bulk.reset();  // an INSERT BULK waits for the very next request only
  if (report_if_killed(sink)) return;
  run_batch(sql, sink);
  report_if_killed(sink);  // killed while it ran: its statements stopped at the next cancel test
}

void SessionImpl::run_batch(const std::string& sql, ResultSink& sink) {
  RequestScope request(*this);
  RequestSinkScope request_sink(m_request_sink, &sink);
  // Each GO-separated batch is parsed whole before it runs (a syntax error anywhere in it
  // runs none of it, as in SQL Server), then runs through the control-flow executor.
  for (const auto& batch : split_go_batches(sql)) {
    if (sink.cancelled()) break;
    std::vector<Node> nodes;
    try {
      ParseOptions o;
      o.line_base = batch.line_base;
      o.quoted_identifier = m_options.quoted_identifier;
      nodes = parse_batch(batch.text, o);
    } catch (const SqlError& e) {
      sink.message(e.msg);
      sink.done(DoneKind::statement, std::nullopt, true);
      continue;
    }
    try {
      run_body(nodes, sink, "", false);
    } catch (const BatchAborted&) {
      // The message has been sent; the batch ends (the next GO batch still runs).
    }
  }
}

void SessionImpl::execute_statement(const Statement& st, ResultSink& sink, bool in_proc) {
  const Tokens t(st.tokens);
  if (t.empty()) return;
  const std::string k = t[0].kind == TokKind::word ? upper(t[0].text) : t[0].text;
  const DoneKind dk = in_proc ? DoneKind::in_proc : DoneKind::statement;
  if (k == "UPDATE" || k == "DELETE") {  // ... WHERE CURRENT OF cursor (cursors.cpp)
    if (auto positioned = positioned_statement(st)) return execute_statement(*positioned, sink, in_proc);
  }
  {
    auto db = m_inst.find(m_db);
    m_inst.requests().set_command(m_spid, request_command(t, k), db ? db->id : 0);
  }
  if (k != "USE" && k != "BACKUP" && k != "RESTORE" && k != "CREATE" && k != "DROP" && k != "ALTER" && k != "EXEC" &&
      k != "EXECUTE" && k != "SET" && k != "DECLARE") {
    ensure_not_restoring(m_db);
  }
  if (k == "INSERT" && t.size() > 1 && t[1].is("BULK")) return do_insert_bulk(st, sink);
  if (k == "SELECT" || k == "INSERT" || k == "UPDATE" || k == "DELETE" || k == "WITH") check_object_permissions(st, k);
  if (m_options.implicit_transactions && !m_xact && starts_implicit_transaction(t, k)) open_transaction("user_transaction");
  if (k == "GRANT" || k == "DENY" || k == "REVOKE") {
    do_permission_statement(st, sink);  // permission_statements.cpp
    return;
  }
  if (m_options.fmtonly) {
    // SET FMTONLY ON (what FreeTDS's bcp_init sends to learn a table's columns): a SELECT
    // answers its COLMETADATA and no rows, and nothing else runs; the sandbox models it for
    // SELECT and SET only and refuses the rest rather than skip them.
    if (k == "SELECT") {
      MetadataOnlySink metadata(sink);
      return do_select(st, metadata, in_proc);
    }
    if (k != "SET") unsupported("SET FMTONLY ON with " + k);
  }
  if (k == "SELECT") return do_select(st, sink, in_proc);
  if (k == "UPDATE" && t.size() > 1 && t[1].is("STATISTICS")) unsupported("UPDATE STATISTICS");
  if (k == "INSERT" || k == "UPDATE" || k == "DELETE") return do_dml(st, sink, in_proc, k);
  if (k == "USE") return do_use(st, sink);
  if (k == "BEGIN") {
    if (t.size() > 1 && (t[1].is("TRAN") || t[1].is("TRANSACTION"))) return do_begin(st, sink);
    if (t.size() > 1 && t[1].is("DISTRIBUTED")) unsupported("BEGIN DISTRIBUTED TRANSACTION");
    unsupported("BEGIN " + (t.size() > 1 ? upper(t[1].text) : std::string()));
  }
  if (k == "RAISERROR") return do_raiserror(st, sink);
  if (k == "THROW") do_throw(st);
  if (k == "WITH" || k == "(") {
    // WITH common_table_expression SELECT ... (SQLite has CTEs); a parenthesized query.
    int depth = 0;
    for (const auto& tk : t) {
      if (is_sym(tk, "(")) ++depth;
      else if (is_sym(tk, ")")) --depth;
      else if (depth == 0 && (tk.is("INSERT") || tk.is("UPDATE") || tk.is("DELETE") || tk.is("MERGE"))) {
        unsupported("WITH common_table_expression " + upper(tk.text));
      } else if (depth == 0 && tk.is("SELECT")) break;
    }
    return do_select(st, sink, in_proc);
  }
  if (k == "COMMIT") return do_commit(st, sink);
  if (k == "SAVE") return do_save(st, sink);
  if (k == "ROLLBACK") return do_rollback(st, sink);
  if (k == "SET") {
    do_set(st, sink, in_proc);
    // Only an option changes what sys.dm_exec_sessions shows; `SET @v = ...` (a loop's hot path) does not.
    if (t.size() > 1 && t[1].kind != TokKind::variable) publish_settings();
    return;
  }
  if (k == "DECLARE") return do_declare(st, sink);
  if (server_object_statement(st, sink, dk)) return;  // server_objects.cpp
  if (k == "CREATE" || k == "ALTER") check_procedure_body(st);
  if ((k == "CREATE" || k == "ALTER" || k == "DROP") && do_principal_statement(st, sink)) return;
  if (k == "CREATE") return do_create(st, sink);
  if (k == "DROP") return do_drop(st, sink);
  if (k == "ALTER") return do_alter(st, sink);
  if (k == "EXEC" || k == "EXECUTE") return do_exec(st, sink);
  if (k == "BACKUP") return do_backup(st, sink);
  if (k == "RESTORE") return do_restore(st, sink);
  if (k == "DBCC") return do_dbcc(st, sink);
  if (k == "TRUNCATE") return do_truncate(st, sink);
  if (k == "CHECKPOINT") {
    auto db = cur_db();
    std::lock_guard<std::mutex> lock(db->write_mutex);
    m_inst.checkpoint(*db);
    sink.done(dk, std::nullopt, false);
    return;
  }
  if (k == "PRINT") {
    bool iv = false;
    std::string expr = translate(t, 1, t.size(), &iv);
    Message m;
    m.number = 0;
    m.severity = 0;
    read("SELECT " + expr, has_nolock_hint(t), [&](sqlite3* c, bool) { m.text = query_str(c, "SELECT " + expr); });
    sink.message(m);
    sink.done(dk, std::nullopt, false);
    return;
  }
  if (k == "WAITFOR" && t.size() >= 3 && t[1].is("DELAY") && t[2].kind == TokKind::string) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(waitfor_delay_ms(t[2].text));
    while (std::chrono::steady_clock::now() < until && !sink.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sink.done(dk, std::nullopt, false);
    return;
  }
  unsupported(statement_head(st));
}

// ---------------------------------------------------------------------------------------
// SELECT

void SessionImpl::refresh_instance_views(sqlite3* c, const std::string& sql) {
  refresh_principal_views(*this, c, sql);
  refresh_server_services(*this, c, sql);  // server_services.hpp
  if (auto current = m_inst.find(m_db)) refresh_scoped_configurations(c, *current, sql);
  if (sql.find("\"sys.dm_exec_requests\"") != std::string::npos) {
    exec(c, "DELETE FROM temp.\"sys.dm_exec_requests\"");
    Stmt rq(c, "INSERT INTO temp.\"sys.dm_exec_requests\"(session_id, request_id, start_time, status, command, database_id,"
               " percent_complete, estimated_completion_time, total_elapsed_time, blocking_session_id, wait_type, wait_time)"
               " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    const bool all_sessions = sees_server_state();  // else the caller's own row only
    for (const auto& r : m_inst.requests().snapshot()) {
      if (!all_sessions && r.session_id != m_spid) continue;
      rq.reset();
      rq.bind(1, static_cast<std::int64_t>(r.session_id)).bind(2, static_cast<std::int64_t>(r.request_id)).bind(3, r.start_time)
          .bind(4, r.status).bind(5, r.command).bind(6, static_cast<std::int64_t>(r.database_id)).bind(7, r.percent_complete)
          .bind(8, r.estimated_completion_time).bind(9, r.total_elapsed_time)
          .bind(10, static_cast<std::int64_t>(r.blocking_session_id)).bind(12, r.wait_time);
      if (r.wait_type.empty()) rq.bind_null(11);
      else rq.bind(11, r.wait_type);
      rq.step();
    }
  }
  if (sql.find("\"sys.dm_exec_sessions\"") != std::string::npos) {
    // The live sessions (session_registry.hpp); host_name and program_name are not kept (NULL).
    exec(c, "DELETE FROM temp.\"sys.dm_exec_sessions\"");
    Stmt se(c, "INSERT INTO temp.\"sys.dm_exec_sessions\"(session_id, login_time, host_name, program_name, login_name, status,"
               " database_id, is_user_process, text_size, language, date_format, date_first, quoted_identifier, arithabort,"
               " ansi_null_dflt_on, ansi_defaults, ansi_warnings, ansi_padding, ansi_nulls, concat_null_yields_null,"
               " transaction_isolation_level, lock_timeout) VALUES(?,?,NULL,NULL,?,?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const bool all_sessions = sees_server_state();  // else the caller's own row only
    for (const auto& r : m_inst.sessions().snapshot()) {
      if (!all_sessions && r.session_id != m_spid) continue;
      auto db = r.database.empty() ? nullptr : m_inst.find(r.database);
      se.reset();
      se.bind(1, static_cast<std::int64_t>(r.session_id)).bind(2, r.login_time).bind(3, r.login_name)
          .bind(4, std::string(r.running ? "running" : "sleeping")).bind(5, static_cast<std::int64_t>(db ? db->id : 0));
      const SessionSettings& o = r.settings;
      auto flag = [](bool b) { return static_cast<std::int64_t>(b ? 1 : 0); };
      se.bind(6, o.text_size).bind(7, o.language).bind(8, o.date_format).bind(9, static_cast<std::int64_t>(o.date_first))
          .bind(10, flag(o.quoted_identifier)).bind(11, flag(o.arithabort)).bind(12, flag(o.ansi_null_dflt_on))
          .bind(13, flag(o.ansi_defaults)).bind(14, flag(o.ansi_warnings)).bind(15, flag(o.ansi_padding))
          .bind(16, flag(o.ansi_nulls)).bind(17, flag(o.concat_null_yields_null))
          .bind(18, static_cast<std::int64_t>(o.transaction_isolation_level)).bind(19, static_cast<std::int64_t>(o.lock_timeout));
      se.step();
    }
  }
  if (sql.find("\"sys.databases\"") == std::string::npos && sql.find("\"sys.master_files\"") == std::string::npos) return;
  exec(c, "DELETE FROM temp.\"sys.databases\"; DELETE FROM temp.\"sys.master_files\";");
  Stmt ins(c,
           "INSERT INTO temp.\"sys.databases\"(name, database_id, source_database_id, owner_sid, create_date,"
           " compatibility_level, collation_name, user_access, user_access_desc, is_read_only, state, state_desc,"
           " recovery_model, recovery_model_desc, log_reuse_wait, log_reuse_wait_desc, is_published, is_subscribed,"
           " is_merge_published, is_distributor, is_cdc_enabled, is_encrypted, is_read_committed_snapshot_on,"
           " snapshot_isolation_state, snapshot_isolation_state_desc," +
               std::string(m_inst.major_version() >= 2019 ? " is_accelerated_database_recovery_on," : "") + " delayed_durability_desc)"
           " VALUES(?,?,NULL,X'01',?,?,'SQL_Latin1_General_CP1_CI_AS',?,?,0,?,?,?,?,?,?,?,0,0,?,?,0,?,?,?," +
               std::string(m_inst.major_version() >= 2019 ? "0," : "") + "'DISABLED')");
  Stmt mf(c, "INSERT INTO temp.\"sys.master_files\"(database_id, file_id, type, type_desc, data_space_id, name, physical_name,"
             " state, state_desc, size, max_size, growth) VALUES(?,?,?,?,?,?,?,0,'ONLINE',?,-1,8192)");
  const int compat = m_inst.major_version() == 2016 ? 130 : m_inst.major_version() == 2017 ? 140 : m_inst.major_version() == 2022 ? 160 : 150;
  auto add = [&](const std::string& name, std::int64_t id, const std::string& created, const std::string& state, int state_n,
                 const std::string& recovery, const std::string& wait, bool pub, bool cdc, const std::string& path, std::int64_t pages,
                 bool rcsi = false, bool snapshot = false, UserAccess access = UserAccess::multi_user,
                 bool distributor = false) {
    ins.reset();
    const int rm = recovery == "FULL" ? 1 : recovery == "BULK_LOGGED" ? 2 : 3;
    static const std::map<std::string, int> waits = {{"NOTHING", 0}, {"CHECKPOINT", 1}, {"LOG_BACKUP", 2},
                                                     {"ACTIVE_TRANSACTION", 4}, {"REPLICATION", 6}};
    ins.bind(1, name).bind(2, id).bind(3, created).bind(4, static_cast<std::int64_t>(compat))
        .bind(5, static_cast<std::int64_t>(static_cast<int>(access))).bind(6, std::string(user_access_desc(access)))
        .bind(7, static_cast<std::int64_t>(state_n))
        .bind(8, state).bind(9, static_cast<std::int64_t>(rm)).bind(10, recovery)
        .bind(11, static_cast<std::int64_t>(waits.count(wait) ? waits.at(wait) : 0)).bind(12, wait)
        .bind(13, static_cast<std::int64_t>(pub)).bind(14, static_cast<std::int64_t>(distributor))
        .bind(15, static_cast<std::int64_t>(cdc)).bind(16, static_cast<std::int64_t>(rcsi))
        .bind(17, static_cast<std::int64_t>(snapshot)).bind(18, std::string(snapshot ? "ON" : "OFF"));
    ins.step();
    for (int f = 1; f <= 2; ++f) {
      mf.reset();
      mf.bind(1, id).bind(2, static_cast<std::int64_t>(f)).bind(3, static_cast<std::int64_t>(f == 1 ? 0 : 1))
          .bind(4, std::string(f == 1 ? "ROWS" : "LOG")).bind(5, static_cast<std::int64_t>(f == 1 ? 1 : 0))
          .bind(6, f == 1 ? name : name + "_log").bind(7, f == 1 ? path : path + "-wal").bind(8, std::max<std::int64_t>(pages, 8));
      mf.step();
    }
  };
  for (auto& db : m_inst.databases()) {
    std::string wait;
    {
      wait = m_inst.log_reuse_wait(*db);
    }
    const std::int64_t pages = query_int(db->admin, "PRAGMA page_count");
    add(db->name, db->id, db->meta("create_date"), db->restoring ? "RESTORING" : "ONLINE", db->restoring ? 1 : 0,
        db->meta("recovery"), wait, db->meta("is_published") == "1", db->meta("is_cdc_enabled") == "1", db->path, pages,
        db->read_committed_snapshot, db->allow_snapshot_isolation, db->user_access, db->meta("is_distributor") == "1");
    fill_database_options_row(c, *db);  // database_options.hpp
    if (db->id == 1) {
      add("tempdb", 2, db->meta("create_date"), "ONLINE", 0, "SIMPLE", "NOTHING", false, false, m_inst.config().data_dir + "/tempdb", 8);
      add("model", 3, db->meta("create_date"), "ONLINE", 0, "FULL", "NOTHING", false, false, m_inst.config().data_dir + "/model", 8);
    }
  }
}

void SessionImpl::do_select(const Statement& st, ResultSink& sink, bool in_proc) {
  const Tokens t(st.tokens);
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i].is("INTO")) return select_into_temp(st, i, sink, in_proc);  // #t only (tempdb.hpp)
    if (t[i].kind == TokKind::variable && t[i].text.rfind("@@", 0) != 0 && i + 1 < t.size() && is_sym(t[i + 1], "=") &&
        (is_sym(t[i - 1], ",") || t[i - 1].is("SELECT"))) {
      // SELECT @v = expr [FROM ...]: assign the last row's value.
      std::size_t e = i + 2;
      int d = 0;
      for (; e < t.size(); ++e) {
        if (is_sym(t[e], "(")) ++d;
        else if (is_sym(t[e], ")")) --d;
        else if (d == 0 && (is_sym(t[e], ",") || t[e].is("FROM") || t[e].is("WHERE"))) break;
      }
      if (e < t.size() && is_sym(t[e], ",")) unsupported("SELECT with several variable assignments");
      bool iv = false;
      std::string sql = "SELECT " + translate(t, i + 2, e, &iv) + " " + translate(t, e, t.size(), &iv);
      if (!variable(lower(t[i].text))) raise(137, 15, "Must declare the scalar variable \"" + t[i].text + "\".");
      std::optional<Cell> last;
      std::int64_t rows = 0;
      read(sql, has_nolock_hint(t), [&](sqlite3* c, bool) {
        last.reset();
        rows = 0;
        if (iv) refresh_instance_views(c, sql);
        Stmt s(c, sql);
        while (s.step()) {
          last = column_cell(s.get(), 0);
          ++rows;
        }
      });
      m_statement_rows = rows;
      if (last) m_vars[lower(t[i].text)].value = *last;
      // SQL Server counts the rows an assigning SELECT went through ("(1 row affected)").
      sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, m_nocount ? std::nullopt : std::optional<std::int64_t>(rows),
                false);
      return;
    }
  }
  bool needs_iv = false;
  const std::string sql = translate(t, 0, t.size(), &needs_iv);
  const auto inferred = infer_select_types(t);
  const DoneKind dk = in_proc ? DoneKind::in_proc : DoneKind::statement;
  // A read that may wait and run again (locking READ COMMITTED with other transactions'
  // rows in its way) keeps its rows until it has finished; any other read streams them.
  std::vector<Column> cols;
  std::vector<std::vector<Value>> kept;
  bool sent = false;
  struct Interruptible {
    SessionImpl& s;
    explicit Interruptible(SessionImpl& session) : s(session) { s.m_select_interruptible = true; s.m_select_interrupted = false; }
    ~Interruptible() { s.m_select_interruptible = false; }
  } interruptible(*this);
  try {
  read(sql, has_nolock_hint(t), [&](sqlite3* c, bool buffered) {
    cols.clear();
    kept.clear();
    if (needs_iv) refresh_instance_views(c, sql);
    Stmt s(c, sql);
    const int n = sqlite3_column_count(s.get());
    // An error met on the first row still follows the result's COLMETADATA, as SQL Server
    // sends it: the client ends the previous result first (FreeTDS's transaction test).
    std::exception_ptr first_row_error;
    bool has_row = false;
    try {
      has_row = s.step();
    } catch (const SqlError&) {
      if (m_read_conflict || m_select_interrupted) throw;  // the read waits and runs again; cancelled
      first_row_error = std::current_exception();
    }
    cols.assign(static_cast<std::size_t>(n), Column{});
    for (int i = 0; i < n; ++i) {
      Column& col = cols[static_cast<std::size_t>(i)];
      const char* name = sqlite3_column_name(s.get(), i);
      col.name = name ? name : "";
      if (col.name.find('(') != std::string::npos || col.name.find(' ') != std::string::npos) {
        // An expression without an alias has no name in SQL Server.
        const bool aliased = [&] {
          for (std::size_t k = 0; k + 1 < t.size(); ++k) if (t[k].is("AS") && t[k + 1].text == col.name) return true;
          for (std::size_t k = 0; k + 1 < t.size(); ++k) if (t[k].text == col.name && is_sym(t[k + 1], "=")) return true;
          return false;
        }();
        if (!aliased) col.name.clear();
      }
      const char* decl = sqlite3_column_decltype(s.get(), i);
      // A table column is reported NOT NULL as declared (a primary key column too), as SQL Server does.
      if (const char* origin = sqlite3_column_origin_name(s.get(), i)) {
        int notnull = 0, pk = 0, autoinc = 0;
        if (sqlite3_table_column_metadata(c, sqlite3_column_database_name(s.get(), i), sqlite3_column_table_name(s.get(), i),
                                          origin, nullptr, nullptr, &notnull, &pk, &autoinc) == SQLITE_OK) {
          col.nullable = !(notnull || pk);
        }
      }
      ColumnType ct;
      if (decl && parse_type(decl, ct)) col.type = ct;
      else if (static_cast<int>(inferred.size()) == n && inferred[static_cast<std::size_t>(i)]) col.type = *inferred[static_cast<std::size_t>(i)];
      else if (has_row) col.type = storage_type(column_cell(s.get(), i));
      else col.type = storage_type(Cell{});
      if (!decl && col.type.type == SqlType::nvarchar && has_row) {
        Cell cc = column_cell(s.get(), i);
        if (cc.type == SQLITE_INTEGER) col.type = storage_type(cc);
      }
    }
    if (!buffered || first_row_error) sink.columns(cols);
    if (first_row_error) std::rethrow_exception(first_row_error);
    std::int64_t count = 0;
    while (has_row) {
      std::vector<Value> row;
      row.reserve(cols.size());
      for (int i = 0; i < n; ++i) {
        const ColumnType& type = cols[static_cast<std::size_t>(i)].type;
        row.push_back(limit_to_textsize(cell_to_value(column_cell(s.get(), i), type), type, m_options.textsize));
      }
      if (buffered) kept.push_back(std::move(row));
      else sink.row(row);
      ++count;
      if ((count & 1023) == 0 && sink.cancelled()) break;
      has_row = s.step();
    }
    m_statement_rows = count;
    if (!buffered) {
      sink.done(dk, count, false);
      sent = true;
    }
  });
  } catch (const SqlError&) {
    if (!m_select_interrupted) throw;
    throw BatchAborted{};  // an attention: the batch ends, the TDS layer acknowledges it
  }
  if (sent) return;
  sink.columns(cols);
  for (const auto& row : kept) sink.row(row);
  sink.done(dk, static_cast<std::int64_t>(kept.size()), false);
}

// ---------------------------------------------------------------------------------------
// Writes and the log

namespace {

std::string sqlite_name_of(const std::string& display) {
  return display.rfind("dbo.", 0) == 0 ? display.substr(4) : display;
}

}  // namespace

namespace {

// 'a','b' for an IN list ('' when empty: matches no transaction id).
std::string sql_list(const std::set<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ",") + quote_literal(v);
  return out.empty() ? "''" : out;
}

// A statement's attempt found a row another transaction holds: undone, to wait and retry.
struct LockConflict {};
// A SNAPSHOT transaction's change met a row changed by another since its snapshot began.
struct UpdateConflict {
  std::string table;
};

}  // namespace

SnapshotPoint SessionImpl::snapshot_point(Database& db) {
  SnapshotPoint p;
  p.last_seq = query_int(db.admin, "SELECT COALESCE(MAX(seq), 0) FROM __m2r_log");
  const std::string own = m_xact && m_xact->logged ? format_xact_id(m_xact->id) : std::string();
  for (const auto& [xid, spid] : db.open_xacts) {
    if (xid != own) p.open.insert(xid);
  }
  return p;
}

void SessionImpl::wait_for_lock(const LockResource& r, LockMode mode, bool hold) {
  const std::string wait_type = mode == LockMode::exclusive ? "LCK_M_X" : "LCK_M_S";
  ResultSink* sink = m_request_sink;
  const auto outcome = m_inst.locks().acquire(
      m_spid, r, mode, std::chrono::milliseconds(m_lock_timeout), hold,
      [&](int blocker) { m_inst.requests().set_wait(m_spid, blocker, wait_type); },
      [sink] { return sink && sink->cancelled(); });
  if (outcome == LockWait::granted) return;
  if (outcome == LockWait::deadlock) {
    // The victim's transaction is rolled back and its locks go (the other session proceeds).
    rollback_transaction();
    m_inst.locks().release_all(m_spid);
    raise(1205, 13, "Transaction (Process ID " + std::to_string(m_spid) +
                        ") was deadlocked on lock resources with another process and has been chosen as the deadlock victim."
                        " Rerun the transaction.");
  }
  // A timeout fails the statement only: an open transaction stays open with its locks; an
  // autocommit statement's locks go with it.
  if (!m_xact) m_inst.locks().release_all(m_spid);
  if (outcome == LockWait::cancelled) throw BatchAborted{};
  raise(1222, 16, "Lock request time out period exceeded.");
}

std::int64_t SessionImpl::write(const std::string& implicit_name, const std::function<std::int64_t(sqlite3*)>& body) {
  auto db = cur_db();
  if (m_xact && m_xact->doomed) raise_uncommittable();
  if (m_xact && !iequals(m_xact->db, m_db)) unsupported("a transaction spanning databases");
  // SNAPSHOT: the transaction's snapshot begins at its first data access; an autocommit
  // statement's at the statement.
  std::optional<SnapshotPoint> statement_snapshot;
  if (m_isolation == Isolation::snapshot) {
    if (!db->allow_snapshot_isolation) {
      raise(3952, 16, "Snapshot isolation transaction failed accessing database '" + db->name +
                          "' because snapshot isolation is not allowed in this database. Use ALTER DATABASE to allow snapshot isolation.");
    }
    std::lock_guard<std::mutex> lock(db->write_mutex);
    if (m_xact && !m_xact->snapshot) m_xact->snapshot = snapshot_point(*db);
    if (!m_xact) statement_snapshot = snapshot_point(*db);
  }
  for (;;) {
    std::optional<LockResource> conflict;
    std::optional<UpdateConflict> update_conflict;
    {
      std::lock_guard<std::mutex> lock(db->write_mutex);
      sqlite3* c = cur();
      const LsnState saved = db->lsn;
      const std::int64_t saved_next = db->next_xact;
      const std::optional<OpenXact> saved_xact = m_xact;
      {
        std::lock_guard<std::mutex> fl(db->flags_mutex);
        exec(c, db->fk_nocheck.empty() && !m_skip_foreign_keys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
      }
      exec(c, "BEGIN IMMEDIATE");
      m_changes.clear();
      m_temp_changes.clear();
      m_capturing = true;
      std::int64_t result = 0;
      auto undo_attempt = [&] {
        m_capturing = false;
        m_changes.clear();
        m_temp_changes.clear();
        sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
        db->lsn = saved;
        db->next_xact = saved_next;
        m_xact = saved_xact;
      };
      try {
        result = body(c);
        m_capturing = false;
        // Row locks (README.md "Transactions and locking"): an X lock on every row the statement changed,
        // held to the end of the transaction. A row another transaction holds stops the
        // attempt: it is undone, the session waits for the row (outside the write mutex),
        // and the statement runs again on what that transaction left.
        for (const auto& ch : m_changes) {
          std::vector<std::int64_t> keys;
          if (ch.op != SQLITE_INSERT) keys.push_back(ch.key_before);
          if (ch.op == SQLITE_INSERT || (ch.op == SQLITE_UPDATE && ch.key_after != ch.key_before)) keys.push_back(ch.key_after);
          for (const std::int64_t key : keys) {
            LockResource r{db->id, ch.table, key};
            if (m_inst.locks().try_acquire(m_spid, r, LockMode::exclusive)) {
              conflict = r;
              throw LockConflict{};
            }
          }
        }
        const SnapshotPoint* snap = m_xact && m_xact->snapshot ? &*m_xact->snapshot
                                    : statement_snapshot ? &*statement_snapshot : nullptr;
        if (snap) {
          // SNAPSHOT: a row changed (and committed) by another transaction since the
          // snapshot began may not be changed: Msg 3960, the transaction is rolled back.
          const std::string own = m_xact && m_xact->logged ? format_xact_id(m_xact->id) : std::string();
          const std::string open_list = sql_list(snap->open);
          for (const auto& ch : m_changes) {
            if (ch.op == SQLITE_INSERT) continue;
            Stmt q(c, "SELECT COUNT(*) FROM __m2r_log l WHERE l.table_name = ? AND (l.row_id = ? OR l.row_id_after = ?)"
                      " AND l.xact_id <> ? AND (l.seq > ? OR l.xact_id IN (" + open_list + "))"
                      " AND EXISTS (SELECT 1 FROM __m2r_log e WHERE e.xact_id = l.xact_id AND e.operation = 'LOP_COMMIT_XACT')");
            q.bind(1, display_table(ch.table)).bind(2, ch.key_before).bind(3, ch.key_before).bind(4, own).bind(5, snap->last_seq);
            if (q.step() && q.i64(0) > 0) {
              update_conflict = UpdateConflict{display_table(ch.table)};
              throw LockConflict{};
            }
          }
        }
        if (!m_changes.empty()) {
          auto begin = [&](const std::string& name, const std::string& time) {
            LogRecord b;
            b.operation = "LOP_BEGIN_XACT";
            b.xact_id = format_xact_id(db->next_xact++);
            b.xact_name = name;
            b.begin_time = time;
            b.spid = m_spid;
            b.description = name + ";0x01";
            return std::make_pair(b.xact_id, db->append(c, b));
          };
          std::string xid, begin_lsn;
          if (m_xact) {
            if (!m_xact->logged) {
              m_xact->id = db->next_xact;
              std::tie(xid, m_xact->begin_lsn) = begin(m_xact->name, m_xact->begin_time);
              m_xact->logged = true;
            }
            xid = format_xact_id(m_xact->id);
          } else {
            std::tie(xid, begin_lsn) = begin(implicit_name, fn_dblog_time_now());
          }
          std::map<std::string, std::vector<std::string>> colcache;
          std::map<std::string, LockShape> lockcache;
          for (auto& ch : m_changes) {
            if (!colcache.count(ch.table)) colcache[ch.table] = image_columns(ch.table);
            if (!lockcache.count(ch.table)) lockcache[ch.table] = lock_shape(c, ch.table, colcache[ch.table]);
            LogRecord r;
            r.operation = ch.op == SQLITE_INSERT ? "LOP_INSERT_ROWS" : ch.op == SQLITE_DELETE ? "LOP_DELETE_ROWS" : "LOP_MODIFY_ROW";
            r.context = "LCX_CLUSTERED";
            r.xact_id = xid;
            r.table_name = display_table(ch.table);
            r.row_id = ch.key_before;
            r.row_id_after = ch.key_after;
            if (!ch.before.empty()) r.before_json = row_json(colcache[ch.table], ch.before);
            if (!ch.after.empty()) r.after_json = row_json(colcache[ch.table], ch.after);
            r.lock_information = lock_information(db->id, lockcache[ch.table], ch);
            r.spid = m_spid;
            db->append(c, r);
          }
          if (!m_xact) {
            LogRecord e;
            e.operation = "LOP_COMMIT_XACT";
            e.xact_id = xid;
            e.end_time = fn_dblog_time_now();
            e.begin_lsn = begin_lsn;
            e.spid = m_spid;
            db->append(c, e);
          }
          db->persist_lsn(c);
        }
        exec(c, "COMMIT");
        if (m_xact && m_xact->logged) db->open_xacts[format_xact_id(m_xact->id)] = m_spid;
        if (m_xact) {
          for (auto& ch : m_temp_changes) m_temp_undo.push_back(std::move(ch));
        }
        m_temp_changes.clear();
      } catch (const LockConflict&) {
        undo_attempt();
      } catch (...) {
        undo_attempt();
        if (!m_xact) m_inst.locks().release_all(m_spid);
        throw;
      }
      if (!conflict && !update_conflict) {
        // An autocommit statement's transaction ends here: its locks go (still under the
        // write mutex, so a reader never sees a changed row unlocked before it is committed).
        if (!m_xact) m_inst.locks().release_all(m_spid);
        m_changes.clear();
        return result;
      }
    }
    if (update_conflict) {
      rollback_transaction();
      m_inst.locks().release_all(m_spid);
      raise(3960, 16, "Snapshot isolation transaction aborted due to update conflict. You cannot use snapshot isolation to access table '" +
                          update_conflict->table + "' directly or indirectly in database '" + db->name +
                          "' to update, delete, or insert the row that has been modified or deleted by another transaction."
                          " Retry the transaction or change the isolation level for the update/delete statement.");
    }
    wait_for_lock(*conflict, LockMode::exclusive, true);
  }
}

void SessionImpl::undo_temp_changes(std::size_t from) {
  // Temporary tables' changes in the transaction (from a savepoint's on), newest first
  // (tempdb.hpp). A table dropped since is skipped (DDL is not transactional in the sandbox).
  std::vector<Change> undo;
  if (from < m_temp_undo.size()) {
    undo.assign(std::make_move_iterator(m_temp_undo.begin() + static_cast<std::ptrdiff_t>(from)),
                std::make_move_iterator(m_temp_undo.end()));
    m_temp_undo.resize(from);
  }
  if (!m_xact || undo.empty()) return;
  sqlite3* c = conn(m_xact->db);
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    std::vector<std::string> cols;
    {
      Stmt s(c, "SELECT name FROM pragma_table_info(?, 'tempdb') ORDER BY cid");
      s.bind(1, it->table);
      while (s.step()) cols.push_back(s.str(0));
    }
    const std::string table = "tempdb." + quote_ident(it->table);
    try {
      if (cols.empty()) continue;
      if (it->op == SQLITE_INSERT) {
        Stmt s(c, "DELETE FROM " + table + " WHERE rowid = ?");
        s.bind(1, it->key_after);
        s.step();
      } else if (it->op == SQLITE_DELETE && it->before.size() == cols.size()) {
        std::string names = "rowid", qs = "?";
        for (const auto& col : cols) { names += ", " + quote_ident(col); qs += ", ?"; }
        Stmt s(c, "INSERT INTO " + table + "(" + names + ") VALUES(" + qs + ")");
        s.bind(1, it->key_before);
        for (std::size_t k = 0; k < cols.size(); ++k) bind_cell(s, static_cast<int>(k + 2), it->before[k]);
        s.step();
      } else if (it->op == SQLITE_UPDATE && it->before.size() == cols.size()) {
        std::string sets = "rowid = ?";
        for (const auto& col : cols) sets += ", " + quote_ident(col) + " = ?";
        Stmt s(c, "UPDATE " + table + " SET " + sets + " WHERE rowid = ?");
        s.bind(1, it->key_before);
        for (std::size_t k = 0; k < cols.size(); ++k) bind_cell(s, static_cast<int>(k + 2), it->before[k]);
        s.bind(static_cast<int>(cols.size() + 2), it->key_after);
        s.step();
      }
    } catch (const SqlError&) {
      // The row's table changed shape or the row is gone: nothing left to undo.
    }
  }
}

void SessionImpl::rollback_transaction() {
  if (!m_xact) return;
  undo_temp_changes();
  if (m_xact->logged) {
    auto db = m_inst.find(m_xact->db);
    if (db) {
      std::lock_guard<std::mutex> lock(db->write_mutex);
      sqlite3* c = conn(m_xact->db);
      const LsnState saved = db->lsn;
      exec(c, "BEGIN IMMEDIATE");
      try {
        undo_xact(*db, c, format_xact_id(m_xact->id), true);
        db->persist_lsn(c);
        exec(c, "COMMIT");
      } catch (...) {
        sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
        db->lsn = saved;
        throw;
      }
      db->open_xacts.erase(format_xact_id(m_xact->id));
      m_inst.locks().release_all(m_spid);  // under the write mutex: the undone rows are committed
    }
  }
  m_xact.reset();
  m_inst.locks().release_all(m_spid);
  notify_transaction(ResultSink::Transaction::rolled_back);
}

// ---------------------------------------------------------------------------------------
// Reads under the isolation level (README.md "Transactions and locking")

bool SessionImpl::lock_probe(const std::string& table, std::int64_t rowid) {
  auto t = m_read_locked.find(table);
  if (t == m_read_locked.end()) return true;
  if (!t->second.count(rowid)) return true;
  auto db = m_inst.find(m_db);
  m_read_conflict = LockResource{db ? db->id : 0, table, rowid};
  return false;
}

namespace {

// Main-schema user tables and views whose quoted name the translated SQL mentions.
struct Mentions {
  std::set<std::string> tables;
  std::vector<std::pair<std::string, std::string>> views;  // name, CREATE VIEW text
  bool any_view = false;
};

Mentions mentions(sqlite3* c, const std::string& sql) {
  Mentions m;
  const std::string low = lower(sql);
  Stmt s(c, "SELECT type, name, sql FROM main.sqlite_master WHERE type IN ('table','view') AND name NOT LIKE '\\_\\_m2r%' ESCAPE '\\'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid");
  while (s.step()) {
    const bool view = s.str(0) == "view";
    const bool named = low.find(lower(quote_ident(s.str(1)))) != std::string::npos;
    if (view) {
      m.views.emplace_back(s.str(1), s.str(2));
      m.any_view |= named;
    } else if (named) {
      m.tables.insert(s.str(1));
    }
  }
  return m;
}

// A main view's definition as a TEMP view of the same name: its tables then resolve to the
// read's shadows (a main view's names resolve in main).
void shadow_views(sqlite3* c, const Mentions& m) {
  for (const auto& [name, text] : m.views) {
    const std::string prefix = "CREATE VIEW";
    if (text.compare(0, prefix.size(), prefix) != 0) continue;
    exec(c, "CREATE TEMP VIEW" + text.substr(prefix.size()));
  }
}

}  // namespace

bool SessionImpl::shadow_lock_probes(sqlite3* c, const std::string& sql, const std::map<std::string, std::map<std::int64_t, int>>& locked) {
  if (locked.empty()) return false;
  const Mentions m = mentions(c, sql);
  bool any = false;
  for (const auto& [table, keys] : locked) {
    if (!m.any_view && !m.tables.count(table)) continue;
    exec(c, "CREATE TEMP VIEW " + quote_ident(table) + " AS SELECT * FROM main." + quote_ident(table) +
                " WHERE m2r_lock_probe(" + quote_literal(table) + ", rowid)");
    any = true;
  }
  if (any && m.any_view) shadow_views(c, m);
  return any;
}

bool SessionImpl::shadow_versions(sqlite3* c, const std::string& sql,
                                  const std::map<std::string, std::map<std::int64_t, std::optional<std::string>>>& first) {
  if (first.empty()) return false;
  const Mentions m = mentions(c, sql);
  bool any = false;
  int n = 0;
  for (const auto& [table, rows] : first) {
    if (!m.any_view && !m.tables.count(table)) continue;
    if (!query_int(c, "SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = " + quote_literal(table))) continue;
    const std::string keys = quote_ident("__m2r_vk_" + std::to_string(n));
    const std::string images = quote_ident("__m2r_vr_" + std::to_string(n));
    ++n;
    exec(c, "CREATE TEMP TABLE " + keys + "(k INTEGER PRIMARY KEY)");
    exec(c, "CREATE TEMP TABLE " + images + " AS SELECT * FROM main." + quote_ident(table) + " WHERE 0");
    Stmt k(c, "INSERT INTO temp." + keys + "(k) VALUES(?)");
    for (const auto& [key, image] : rows) {
      k.reset();
      k.bind(1, key);
      k.step();
      if (!image) continue;
      auto img = nlohmann::json::parse(*image);
      std::string cols, qs;
      for (auto& [col, v] : img.items()) {
        cols += (cols.empty() ? "" : ", ") + quote_ident(col);
        qs += qs.empty() ? "?" : ", ?";
      }
      Stmt ins(c, "INSERT INTO temp." + images + "(" + cols + ") VALUES(" + qs + ")");
      int i = 1;
      for (auto& [col, v] : img.items()) bind_json(ins, i++, v);
      ins.step();
    }
    exec(c, "CREATE TEMP VIEW " + quote_ident(table) + " AS SELECT * FROM main." + quote_ident(table) +
                " WHERE rowid NOT IN (SELECT k FROM temp." + keys + ") UNION ALL SELECT * FROM temp." + images);
    any = true;
  }
  if (any && m.any_view) shadow_views(c, m);
  return any;
}

void SessionImpl::read(const std::string& sql, bool nolock, const std::function<void(sqlite3*, bool)>& body) {
  auto db = m_inst.find(m_db);
  const Isolation level = nolock ? Isolation::read_uncommitted : m_isolation;
  if (!db || level == Isolation::read_uncommitted) return body(cur(), false);
  const bool versioned = level == Isolation::snapshot || db->read_committed_snapshot;
  if (level == Isolation::snapshot && !db->allow_snapshot_isolation && !mentions(cur(), sql).tables.empty()) {
    raise(3952, 16, "Snapshot isolation transaction failed accessing database '" + db->name +
                        "' because snapshot isolation is not allowed in this database. Use ALTER DATABASE to allow snapshot isolation.");
  }
  for (;;) {
    sqlite3* c = cur();
    std::map<std::string, std::map<std::int64_t, int>> locked;
    std::optional<SnapshotPoint> point;  // whose changes a versioned read undoes
    const std::string own = m_xact && m_xact->logged ? format_xact_id(m_xact->id) : std::string();
    {
      // The read's SQLite snapshot and the lock table (or the open transactions) are taken
      // together, under the write mutex: every row changed and not yet committed is X-locked
      // by its transaction, so a row not in `locked` is committed in this snapshot.
      std::lock_guard<std::mutex> lock(db->write_mutex);
      exec(c, "BEGIN");
      query_int(c, "SELECT COUNT(*) FROM main.sqlite_master");
      if (!versioned) {
        locked = m_inst.locks().exclusive_by_others(m_spid, db->id);
      } else if (level == Isolation::snapshot && m_xact) {
        if (!m_xact->snapshot) m_xact->snapshot = snapshot_point(*db);
        point = m_xact->snapshot;
      } else {
        point = snapshot_point(*db);
        point->last_seq = -1;  // a statement-level view: only the transactions open now
      }
    }
    try {
      bool shadowed = false;
      if (!versioned) {
        shadowed = shadow_lock_probes(c, sql, locked);
        m_read_locked = std::move(locked);
      } else {
        // The committed image of each row those transactions touched: the before image of
        // its first change by them (exclusive locks order the changes of a row by commit).
        std::map<std::string, std::map<std::int64_t, std::optional<std::string>>> first;
        if (!point->open.empty() || point->last_seq >= 0) {
          std::string where = "xact_id IN (" + sql_list(point->open) + ")";
          if (point->last_seq >= 0) where += " OR (seq > " + std::to_string(point->last_seq) + " AND xact_id <> " + quote_literal(own) + ")";
          Stmt s(c, "SELECT operation, table_name, row_id, row_id_after, before_json FROM main.__m2r_log"
                    " WHERE table_name IS NOT NULL AND (" + where + ") ORDER BY seq");
          while (s.step()) {
            auto& rows = first[sqlite_name_of(s.str(1))];
            const std::string op = s.str(0);
            const std::int64_t k1 = s.i64(2), k2 = s.i64(3);
            if (op == "LOP_INSERT_ROWS") rows.try_emplace(k2, std::nullopt);
            else if (op == "LOP_DELETE_ROWS") rows.try_emplace(k1, s.str(4));
            else if (op == "LOP_MODIFY_ROW") {
              rows.try_emplace(k1, s.str(4));
              if (k2 != k1) rows.try_emplace(k2, std::nullopt);
            }
          }
        }
        shadowed = shadow_versions(c, sql, first);
      }
      body(c, shadowed && !versioned);
      m_read_locked.clear();
      exec(c, "ROLLBACK");  // drops the shadows with the read transaction
      return;
    } catch (const SqlError&) {
      m_read_locked.clear();
      sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
      if (!m_read_conflict) throw;
    } catch (...) {
      m_read_locked.clear();
      sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    const LockResource r = *m_read_conflict;
    m_read_conflict.reset();
    wait_for_lock(r, LockMode::shared, false);
  }
}

void undo_records(sqlite3* c, const std::string& xid, LsnState* lsn, int spid, bool compensate, std::int64_t after_seq) {
  struct Rec {
    std::string op, table, before, after;
    std::int64_t k1, k2;
    std::string lock_info;
  };
  std::vector<Rec> recs;
  std::string begin_lsn;
  {
    Stmt s(c, "SELECT operation, table_name, before_json, after_json, row_id, row_id_after, lsn, lock_info FROM __m2r_log"
              " WHERE xact_id = ? AND seq > ? ORDER BY seq");
    s.bind(1, xid).bind(2, after_seq);
    while (s.step()) {
      if (s.str(0) == "LOP_BEGIN_XACT") begin_lsn = s.str(6);
      if (s.null(1)) continue;
      recs.push_back({s.str(0), s.str(1), s.str(2), s.str(3), s.i64(4), s.i64(5), s.null(7) ? std::string() : s.str(7)});
    }
  }
  exec(c, "PRAGMA defer_foreign_keys = ON");
  for (auto it = recs.rbegin(); it != recs.rend(); ++it) {
    const std::string table = quote_ident(sqlite_name_of(it->table));
    LogRecord comp;
    comp.xact_id = xid;
    comp.context = "LCX_CLUSTERED";
    comp.table_name = it->table;
    comp.description = "COMPENSATION";
    comp.lock_information = it->lock_info;  // the undo changes the rows the record locked
    comp.spid = spid;
    if (it->op == "LOP_INSERT_ROWS") {
      Stmt s(c, "DELETE FROM " + table + " WHERE rowid = ?");
      s.bind(1, it->k2);
      s.step();
      comp.operation = "LOP_DELETE_ROWS";
      comp.row_id = comp.row_id_after = it->k2;
      comp.before_json = it->after;
    } else if (it->op == "LOP_DELETE_ROWS") {
      auto img = nlohmann::json::parse(it->before);
      std::string cols = "rowid", qs = "?";
      for (auto& [k, v] : img.items()) { cols += ", " + quote_ident(k); qs += ", ?"; }
      Stmt s(c, "INSERT INTO " + table + "(" + cols + ") VALUES(" + qs + ")");
      s.bind(1, it->k1);
      int i = 2;
      for (auto& [k, v] : img.items()) bind_json(s, i++, v);
      s.step();
      comp.operation = "LOP_INSERT_ROWS";
      comp.row_id = comp.row_id_after = it->k1;
      comp.after_json = it->before;
    } else if (it->op == "LOP_MODIFY_ROW") {
      auto img = nlohmann::json::parse(it->before);
      std::string sets = "rowid = ?";
      for (auto& [k, v] : img.items()) sets += ", " + quote_ident(k) + " = ?";
      Stmt s(c, "UPDATE " + table + " SET " + sets + " WHERE rowid = ?");
      s.bind(1, it->k1);
      int i = 2;
      for (auto& [k, v] : img.items()) bind_json(s, i++, v);
      s.bind(i, it->k2);
      s.step();
      comp.operation = "LOP_MODIFY_ROW";
      comp.row_id = it->k2;
      comp.row_id_after = it->k1;
      comp.before_json = it->after;
      comp.after_json = it->before;
    } else {
      continue;
    }
    if (compensate && lsn) append_log(c, *lsn, comp);
  }
  if (compensate && lsn && !begin_lsn.empty() && after_seq == 0) {
    LogRecord a;
    a.operation = "LOP_ABORT_XACT";
    a.xact_id = xid;
    a.end_time = fn_dblog_time_now();
    a.begin_lsn = begin_lsn;
    a.spid = spid;
    append_log(c, *lsn, a);
  }
}

void SessionImpl::undo_xact(Database& db, sqlite3* c, const std::string& xid, bool compensate) {
  m_suppress_triggers = true;
  try {
    undo_records(c, xid, &db.lsn, m_spid, compensate);
  } catch (...) {
    m_suppress_triggers = false;
    throw;
  }
  m_suppress_triggers = false;
}

}  // namespace sandbox::engine
