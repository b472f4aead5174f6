// The session executor: dispatches each T-SQL statement, applies writes in short SQLite
// transactions and logs every row change (README.md "Transactions and the log").
#include "engine/session.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace sandbox::engine {

namespace {

bool is_sym(const Token& t, const char* s) { return t.kind == TokKind::symbol && t.text == s; }

[[noreturn]] void unsupported(const std::string& what) {
  raise(40517, 16, "Keyword or statement option '" + what + "' is not supported in this version of SQL Server.");
}

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

void preupdate(void* ctx, sqlite3* db, int op, const char* zdb, const char* ztab, sqlite3_int64 k1, sqlite3_int64 k2) {
  auto* s = static_cast<SessionImpl*>(ctx);
  if (!s->capturing() || std::string(zdb) != "main") return;
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
  s->capture(std::move(ch));
}

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

std::string row_json(const std::vector<std::string>& cols, const std::vector<Cell>& cells) {
  std::string out = "{";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ",";
    out += nlohmann::json(i < cols.size() ? cols[i] : "c" + std::to_string(i)).dump() + ":" + cell_json(cells[i]);
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
    : m_inst(inst), m_db(std::move(database)), m_user(std::move(user)), m_spid(inst.next_spid()) {}

SessionImpl::~SessionImpl() {
  // An open transaction rolls back when its connection goes away.
  if (m_xact && m_xact->logged) {
    try {
      auto db = m_inst.find(m_xact->db);
      if (db && !db->dropped) {
        std::lock_guard<std::mutex> lock(db->write_mutex);
        sqlite3* c = conn(m_xact->db);
        exec(c, "BEGIN IMMEDIATE");
        try {
          undo_xact(*db, c, format_xact_id(m_xact->id), true);
          db->persist_lsn(c);
          exec(c, "COMMIT");
        } catch (...) {
          exec(c, "ROLLBACK");
        }
      }
    } catch (...) {
    }
  }
  for (auto& [k, c] : m_conns) sqlite3_close_v2(c);
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
    register_functions(c, this);
    create_catalog_views(c, key != "msdb");
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

void SessionImpl::execute_batch(const std::string& sql, ResultSink& sink) {
  RequestScope request(*this);
  std::vector<Statement> stmts;
  try {
    stmts = split_statements(sql);
  } catch (const SqlError& e) {
    sink.message(e.msg);
    sink.done(DoneKind::statement, std::nullopt, true);
    return;
  }
  for (const auto& st : stmts) {
    if (sink.cancelled()) break;
    try {
      execute_statement(st, sink, false);
    } catch (const SqlError& e) {
      Message m = e.msg;
      m.line = st.line;
      sink.message(m);
      sink.done(DoneKind::statement, std::nullopt, true);
      // Severity 16 statement errors do not end the batch in SQL Server; compile errors (15) do.
      if (m.severity == 15 || m.severity >= 20) break;
    }
  }
}

void SessionImpl::execute_statement(const Statement& st, ResultSink& sink, bool in_proc) {
  const auto& t = st.tokens;
  if (t.empty()) return;
  const std::string k = t[0].kind == TokKind::word ? upper(t[0].text) : t[0].text;
  const DoneKind dk = in_proc ? DoneKind::in_proc : DoneKind::statement;
  {
    auto db = m_inst.find(m_db);
    m_inst.requests().set_command(m_spid, request_command(t, k), db ? db->id : 0);
  }
  if (k != "USE" && k != "BACKUP" && k != "RESTORE" && k != "CREATE" && k != "DROP" && k != "ALTER" && k != "EXEC" &&
      k != "EXECUTE" && k != "SET" && k != "DECLARE") {
    ensure_not_restoring(m_db);
  }
  if (k == "SELECT") return do_select(st, sink, in_proc);
  if (k == "INSERT" || k == "UPDATE" || k == "DELETE") return do_dml(st, sink, in_proc, k);
  if (k == "USE") return do_use(st, sink);
  if (k == "BEGIN") {
    if (t.size() > 1 && (t[1].is("TRAN") || t[1].is("TRANSACTION"))) return do_begin(st, sink);
    if (t.size() > 1 && t[1].is("DISTRIBUTED")) unsupported("BEGIN DISTRIBUTED TRANSACTION");
    unsupported("BEGIN ... END block outside a procedure");
  }
  if (k == "COMMIT") return do_commit(st, sink);
  if (k == "ROLLBACK") return do_rollback(st, sink);
  if (k == "SET") return do_set(st, sink);
  if (k == "DECLARE") return do_declare(st, sink);
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
    m.text = query_str(cur(), "SELECT " + expr);
    sink.message(m);
    sink.done(dk, std::nullopt, false);
    return;
  }
  if (k == "WAITFOR" && t.size() >= 3 && t[1].is("DELAY") && t[2].kind == TokKind::string) {
    int h = 0, mi = 0, s = 0, ms = 0;
    std::sscanf(t[2].text.c_str(), "%d:%d:%d.%d", &h, &mi, &s, &ms);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(((h * 60 + mi) * 60 + s) * 1000 + ms);
    while (std::chrono::steady_clock::now() < until && !sink.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sink.done(dk, std::nullopt, false);
    return;
  }
  unsupported(statement_head(st));
}

// ---------------------------------------------------------------------------------------
// SELECT

void SessionImpl::refresh_instance_views(sqlite3* c, const std::string& sql) {
  if (sql.find("\"sys.dm_exec_requests\"") != std::string::npos) {
    exec(c, "DELETE FROM temp.\"sys.dm_exec_requests\"");
    Stmt rq(c, "INSERT INTO temp.\"sys.dm_exec_requests\"(session_id, request_id, start_time, status, command, database_id,"
               " percent_complete, estimated_completion_time, total_elapsed_time) VALUES(?,?,?,?,?,?,?,?,?)");
    for (const auto& r : m_inst.requests().snapshot()) {
      rq.reset();
      rq.bind(1, static_cast<std::int64_t>(r.session_id)).bind(2, static_cast<std::int64_t>(r.request_id)).bind(3, r.start_time)
          .bind(4, r.status).bind(5, r.command).bind(6, static_cast<std::int64_t>(r.database_id)).bind(7, r.percent_complete)
          .bind(8, r.estimated_completion_time).bind(9, r.total_elapsed_time);
      rq.step();
    }
  }
  if (sql.find("\"sys.databases\"") == std::string::npos && sql.find("\"sys.master_files\"") == std::string::npos) return;
  exec(c, "DELETE FROM temp.\"sys.databases\"; DELETE FROM temp.\"sys.master_files\";");
  Stmt ins(c,
           "INSERT INTO temp.\"sys.databases\"(name, database_id, source_database_id, owner_sid, create_date,"
           " compatibility_level, collation_name, user_access, user_access_desc, is_read_only, state, state_desc,"
           " recovery_model, recovery_model_desc, log_reuse_wait, log_reuse_wait_desc, is_published, is_subscribed,"
           " is_merge_published, is_distributor, is_cdc_enabled, is_encrypted, is_read_committed_snapshot_on,"
           " snapshot_isolation_state, is_accelerated_database_recovery_on, delayed_durability_desc)"
           " VALUES(?,?,NULL,X'01',?,?,'SQL_Latin1_General_CP1_CI_AS',0,'MULTI_USER',0,?,?,?,?,?,?,?,0,0,0,?,0,0,0,0,'DISABLED')");
  Stmt mf(c, "INSERT INTO temp.\"sys.master_files\"(database_id, file_id, type, type_desc, data_space_id, name, physical_name,"
             " state, state_desc, size, max_size, growth) VALUES(?,?,?,?,?,?,?,0,'ONLINE',?,-1,8192)");
  const int compat = m_inst.major_version() == 2016 ? 130 : m_inst.major_version() == 2017 ? 140 : m_inst.major_version() == 2022 ? 160 : 150;
  auto add = [&](const std::string& name, std::int64_t id, const std::string& created, const std::string& state, int state_n,
                 const std::string& recovery, const std::string& wait, bool pub, bool cdc, const std::string& path, std::int64_t pages) {
    ins.reset();
    const int rm = recovery == "FULL" ? 1 : recovery == "BULK_LOGGED" ? 2 : 3;
    static const std::map<std::string, int> waits = {{"NOTHING", 0}, {"CHECKPOINT", 1}, {"LOG_BACKUP", 2},
                                                     {"ACTIVE_TRANSACTION", 4}, {"REPLICATION", 6}};
    ins.bind(1, name).bind(2, id).bind(3, created).bind(4, static_cast<std::int64_t>(compat)).bind(5, static_cast<std::int64_t>(state_n))
        .bind(6, state).bind(7, static_cast<std::int64_t>(rm)).bind(8, recovery)
        .bind(9, static_cast<std::int64_t>(waits.count(wait) ? waits.at(wait) : 0)).bind(10, wait)
        .bind(11, static_cast<std::int64_t>(pub)).bind(12, static_cast<std::int64_t>(cdc));
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
        db->meta("recovery"), wait, db->meta("is_published") == "1", db->meta("is_cdc_enabled") == "1", db->path, pages);
    if (db->id == 1) {
      add("tempdb", 2, db->meta("create_date"), "ONLINE", 0, "SIMPLE", "NOTHING", false, false, m_inst.config().data_dir + "/tempdb", 8);
      add("model", 3, db->meta("create_date"), "ONLINE", 0, "FULL", "NOTHING", false, false, m_inst.config().data_dir + "/model", 8);
    }
  }
}

void SessionImpl::do_select(const Statement& st, ResultSink& sink, bool in_proc) {
  const auto& t = st.tokens;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i].is("INTO")) unsupported("SELECT ... INTO");
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
      if (iv) refresh_instance_views(cur(), sql);
      Stmt s(cur(), sql);
      auto& var = m_vars[lower(t[i].text)];
      if (!variable(lower(t[i].text))) raise(137, 15, "Must declare the scalar variable \"" + t[i].text + "\".");
      while (s.step()) var.value = column_cell(s.get(), 0);
      sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, std::nullopt, false);
      return;
    }
  }
  bool needs_iv = false;
  const std::string sql = translate(t, 0, t.size(), &needs_iv);
  sqlite3* c = cur();
  if (needs_iv) refresh_instance_views(c, sql);
  Stmt s(c, sql);
  const int n = sqlite3_column_count(s.get());
  const auto inferred = infer_select_types(t);
  bool has_row = s.step();
  std::vector<Column> cols(static_cast<std::size_t>(n));
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
  sink.columns(cols);
  std::int64_t count = 0;
  while (has_row) {
    std::vector<Value> row;
    row.reserve(cols.size());
    for (int i = 0; i < n; ++i) row.push_back(cell_to_value(column_cell(s.get(), i), cols[static_cast<std::size_t>(i)].type));
    sink.row(row);
    ++count;
    if ((count & 1023) == 0 && sink.cancelled()) break;
    has_row = s.step();
  }
  sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, count, false);
}

// ---------------------------------------------------------------------------------------
// Writes and the log

namespace {

std::string sqlite_name_of(const std::string& display) {
  return display.rfind("dbo.", 0) == 0 ? display.substr(4) : display;
}

}  // namespace

std::int64_t SessionImpl::write(const std::string& implicit_name, const std::function<std::int64_t(sqlite3*)>& body) {
  auto db = cur_db();
  if (m_xact && !iequals(m_xact->db, m_db)) unsupported("a transaction spanning databases");
  std::lock_guard<std::mutex> lock(db->write_mutex);
  sqlite3* c = cur();
  const LsnState saved = db->lsn;
  const std::int64_t saved_next = db->next_xact;
  const std::optional<OpenXact> saved_xact = m_xact;
  {
    std::lock_guard<std::mutex> fl(db->flags_mutex);
    exec(c, db->fk_nocheck.empty() ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
  }
  exec(c, "BEGIN IMMEDIATE");
  m_changes.clear();
  m_capturing = true;
  std::int64_t result = 0;
  try {
    result = body(c);
    m_capturing = false;
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
      for (auto& ch : m_changes) {
        if (!colcache.count(ch.table)) colcache[ch.table] = table_columns(ch.table);
        LogRecord r;
        r.operation = ch.op == SQLITE_INSERT ? "LOP_INSERT_ROWS" : ch.op == SQLITE_DELETE ? "LOP_DELETE_ROWS" : "LOP_MODIFY_ROW";
        r.context = "LCX_CLUSTERED";
        r.xact_id = xid;
        r.table_name = display_table(ch.table);
        r.row_id = ch.key_before;
        r.row_id_after = ch.key_after;
        if (!ch.before.empty()) r.before_json = row_json(colcache[ch.table], ch.before);
        if (!ch.after.empty()) r.after_json = row_json(colcache[ch.table], ch.after);
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
  } catch (...) {
    m_capturing = false;
    m_changes.clear();
    sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
    db->lsn = saved;
    db->next_xact = saved_next;
    m_xact = saved_xact;
    throw;
  }
  m_changes.clear();
  return result;
}

void undo_records(sqlite3* c, const std::string& xid, LsnState* lsn, int spid, bool compensate) {
  struct Rec {
    std::string op, table, before, after;
    std::int64_t k1, k2;
  };
  std::vector<Rec> recs;
  std::string begin_lsn;
  {
    Stmt s(c, "SELECT operation, table_name, before_json, after_json, row_id, row_id_after, lsn FROM __m2r_log"
              " WHERE xact_id = ? ORDER BY seq");
    s.bind(1, xid);
    while (s.step()) {
      if (s.str(0) == "LOP_BEGIN_XACT") begin_lsn = s.str(6);
      if (s.null(1)) continue;
      recs.push_back({s.str(0), s.str(1), s.str(2), s.str(3), s.i64(4), s.i64(5)});
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
  if (compensate && lsn && !begin_lsn.empty()) {
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
