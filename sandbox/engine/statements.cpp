// Statement handlers: DML, transactions, SET/DECLARE, DDL, EXEC, BACKUP/RESTORE, DBCC.
#include <algorithm>
#include <chrono>
#include <set>
#include <nlohmann/json.hpp>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"
#include "engine/tempdb.hpp"

namespace sandbox::engine {

namespace {

Value token_value(const Token& t, SessionImpl& s) {
  if (t.kind == TokKind::string) return t.text;
  if (t.kind == TokKind::number) return number_literal(t);
  if (t.is("NULL") || t.is("DEFAULT")) return std::monostate{};
  if (t.kind == TokKind::variable) {
    const Variable* v = s.variable(lower(t.text));
    if (!v) raise(137, 15, "Must declare the scalar variable \"" + t.text + "\".");
    const Cell& c = v->value;
    if (c.type == SQLITE_INTEGER) return c.i;
    if (c.type == SQLITE_FLOAT) return c.d;
    if (c.type == SQLITE_TEXT) return c.s;
    if (c.type == SQLITE_BLOB) return Bytes{std::vector<std::uint8_t>(c.s.begin(), c.s.end())};
    return std::monostate{};
  }
  return t.text;  // bare words (EXEC p @x = abc)
}

// The columns of a table that no statement writes: its rowversion and its computed ones.
struct GeneratedColumns {
  std::string rowversion;          // empty: none
  std::set<std::string> computed;  // lower-case names
};

GeneratedColumns generated_columns(sqlite3* c, std::int64_t object_id) {
  GeneratedColumns g;
  Stmt s(c, "SELECT c.name, c.type_name IN ('rowversion', 'timestamp'), EXISTS (SELECT 1 FROM __m2r_computed_columns k"
            " WHERE k.object_id = c.object_id AND k.column_id = c.column_id) FROM __m2r_columns c WHERE c.object_id = ?");
  s.bind(1, object_id);
  while (s.step()) {
    if (s.i64(1)) g.rowversion = s.str(0);
    if (s.i64(2)) g.computed.insert(lower(s.str(0)));
  }
  return g;
}

[[noreturn]] void refuse_computed(const std::string& column) {
  raise(271, 16, "The column \"" + column + "\" cannot be modified because it is either a computed column or is the result of a UNION operator.");
}

// INSERT ... VALUES with the rowversion column at `position` of its column list: SQL Server
// accepts only DEFAULT there (which is what it gets anyway); the tokens without that value.
std::vector<Token> without_rowversion_values(const Tokens& t, std::size_t rest, std::size_t position) {
  auto refuse = [] {
    raise(273, 16, "Cannot insert an explicit value into a timestamp column. Use INSERT with a column list to exclude the "
                   "timestamp column, or insert a DEFAULT into the timestamp column.");
  };
  if (rest >= t.size() || !t[rest].is("VALUES")) refuse();
  std::vector<Token> out(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(rest + 1));
  std::size_t j = rest + 1;
  while (j < t.size() && is_sym(t[j], "(")) {
    const std::size_t close = match_paren(t, j);
    std::vector<std::pair<std::size_t, std::size_t>> items;
    std::size_t start = j + 1;
    int d = 0;
    for (std::size_t k = j + 1; k <= close; ++k) {
      if (k == close || (d == 0 && is_sym(t[k], ","))) {
        items.emplace_back(start, k);
        start = k + 1;
      } else if (is_sym(t[k], "(")) ++d;
      else if (is_sym(t[k], ")")) --d;
    }
    if (position >= items.size() || items[position].second != items[position].first + 1 || !t[items[position].first].is("DEFAULT")) refuse();
    out.push_back(t[j]);
    bool first = true;
    for (std::size_t n = 0; n < items.size(); ++n) {
      if (n == position) continue;
      if (!first) {
        Token comma;
        comma.kind = TokKind::symbol;
        comma.text = ",";
        out.push_back(comma);
      }
      first = false;
      out.insert(out.end(), t.begin() + static_cast<std::ptrdiff_t>(items[n].first), t.begin() + static_cast<std::ptrdiff_t>(items[n].second));
    }
    out.push_back(t[close]);
    j = close + 1;
    if (j < t.size() && is_sym(t[j], ",")) out.push_back(t[j++]);
  }
  out.insert(out.end(), t.begin() + static_cast<std::ptrdiff_t>(j), t.end());
  return out;
}

// UPDATE t SET ...: 271 for a computed column, 272 for the rowversion, and the rowversion set
// to the database's next value, as SQL Server changes it with every update of a row. Returns
// the statement's tokens (unchanged when t has no rowversion). An UPDATE through an alias
// (UPDATE o SET ... FROM t AS o) is not looked into.
std::vector<Token> update_with_rowversion(SessionImpl& s, sqlite3* c, const Tokens& t) {
  std::size_t i = 1;
  if (i < t.size() && t[i].is("TOP")) i = is_sym(t[i + 1], "(") ? match_paren(t, i + 1) + 1 : i + 2;
  if (i >= t.size() || !t[i].is_name() || is_temp_name(t[i].text)) return t.vec();
  ObjName on = parse_name(t, i);
  std::int64_t object_id = 0;
  {
    Stmt q(c, "SELECT object_id FROM __m2r_objects WHERE sqlite_name = ? COLLATE NOCASE AND type = 'U'");
    q.bind(1, s.sqlite_table_name(on.schema, on.name));
    if (q.step()) object_id = q.i64(0);
  }
  if (!object_id) return t.vec();
  const GeneratedColumns g = generated_columns(c, object_id);
  if (g.rowversion.empty() && g.computed.empty()) return t.vec();
  while (i < t.size() && !t[i].is("SET")) ++i;
  if (i >= t.size()) return t.vec();
  std::size_t end = i + 1, item = i + 1;
  for (int d = 0; end < t.size(); ++end) {
    if (is_sym(t[end], "(")) ++d;
    else if (is_sym(t[end], ")")) --d;
    else if (d == 0 && (t[end].is("FROM") || t[end].is("WHERE") || t[end].is("OPTION") || t[end].is("OUTPUT") || is_sym(t[end], ";"))) break;
    if (d == 0 && (is_sym(t[end], ",") || end == i + 1)) {
      // An assignment: [alias.]column {= | += | ...} expression; @v = column = ... names it second.
      item = is_sym(t[end], ",") ? end + 1 : end;
      std::size_t k = item;
      if (k < t.size() && t[k].kind == TokKind::variable && k + 1 < t.size() && is_sym(t[k + 1], "=")) k += 2;
      while (k + 2 < t.size() && is_sym(t[k + 1], ".") && t[k + 2].is_name()) k += 2;
      if (k < t.size() && t[k].is_name()) {
        if (g.computed.count(lower(t[k].text))) refuse_computed(t[k].text);
        if (!g.rowversion.empty() && iequals(t[k].text, g.rowversion)) raise(272, 16, "Cannot update a timestamp column.");
      }
    }
  }
  if (g.rowversion.empty()) return t.vec();
  std::vector<Token> out(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(end));
  auto token = [](TokKind kind, const std::string& text) {
    Token k;
    k.kind = kind;
    k.text = text;
    return k;
  };
  out.push_back(token(TokKind::symbol, ","));
  out.push_back(token(TokKind::ident_quoted, g.rowversion));
  out.push_back(token(TokKind::symbol, "="));
  out.push_back(token(TokKind::word, "M2R_NEXT_ROWVERSION"));  // translate.cpp: m2r_next_rowversion()
  out.push_back(token(TokKind::symbol, "("));
  out.push_back(token(TokKind::symbol, ")"));
  out.insert(out.end(), t.begin() + static_cast<std::ptrdiff_t>(end), t.end());
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// DML

void SessionImpl::do_dml(const Statement& st, ResultSink& sink, bool in_proc, const std::string& kind) {
  const Tokens t(st.tokens);
  std::string sql;
  bool needs_iv = false;
  std::string identity_table;
  if (kind == "INSERT") {
    std::size_t i = 1;
    if (i < t.size() && t[i].is("INTO")) ++i;
    std::size_t name_at = i;
    ObjName on = parse_name(t, i);
    if (is_temp_name(on.name)) return insert_temp(st, i, on.name, sink, in_proc);
    if (!on.db.empty() && !iequals(on.db, m_db)) unsupported("INSERT into another database");
    const std::string table = sqlite_table_name(on.schema, on.name);
    // Catalog: the table and its identity column.
    std::int64_t object_id = 0;
    {
      Stmt s(cur(), "SELECT object_id FROM __m2r_objects WHERE sqlite_name = ? COLLATE NOCASE AND type = 'U'");
      s.bind(1, table);
      if (s.step()) object_id = s.i64(0);
    }
    if (!object_id) {
      if (query_int(cur(), "SELECT COUNT(*) FROM sqlite_master WHERE type = 'view' AND name = " + quote_literal(table) + " COLLATE NOCASE"))
        unsupported("INSERT into a view");
      raise(208, 16, "Invalid object name '" + on.name + "'.");
    }
    std::string ident_col;
    bool ident_is_rowid = false;
    std::int64_t seed = 1, incr = 1;
    {
      Stmt s(cur(), "SELECT name, seed_value, increment_value FROM __m2r_columns WHERE object_id = ? AND is_identity = 1");
      s.bind(1, object_id);
      if (s.step()) {
        ident_col = s.str(0);
        seed = s.i64(1);
        incr = s.i64(2);
        ident_is_rowid = query_int(cur(), "SELECT COUNT(*) FROM pragma_table_info(" + quote_literal(table) + ") WHERE pk = 1 AND name = " +
                                              quote_literal(ident_col) + " COLLATE NOCASE AND type = 'INTEGER'") > 0;
      }
    }
    std::vector<std::string> cols;
    std::size_t rest = i;
    if (i < t.size() && is_sym(t[i], "(")) {
      std::size_t close = match_paren(t, i);
      cols = name_list(t, i, close);
      rest = close + 1;
    }
    const bool explicit_columns = !cols.empty();
    const GeneratedColumns generated = generated_columns(cur(), object_id);
    for (const auto& c : cols) if (generated.computed.count(lower(c))) refuse_computed(c);
    const bool ii_on = m_identity_insert.count(lower(table)) > 0;
    if (!ident_col.empty()) {
      bool listed = false;
      for (auto& c : cols) listed |= iequals(c, ident_col);
      if (listed && !ii_on) {
        raise(544, 16, "Cannot insert explicit value for identity column in table '" + on.name +
                           "' when IDENTITY_INSERT is set to OFF.");
      }
      if (cols.empty() && ii_on) {
        raise(545, 16, "Explicit value must be specified for identity column in table '" + on.name +
                           "' either when IDENTITY_INSERT is set to ON or when a replication user is inserting into a NOT FOR REPLICATION identity column.");
      }
      if (cols.empty() && !(rest < t.size() && t[rest].is("DEFAULT"))) {
        for (auto& c : table_columns(table)) if (!iequals(c, ident_col)) cols.push_back(c);
      }
      identity_table = table;
    }
    // Without a column list the values go to every column but the identity and the computed
    // ones (table_columns leaves those out), the rowversion included.
    const bool default_values = rest < t.size() && t[rest].is("DEFAULT");
    if (cols.empty() && !default_values && (!generated.rowversion.empty() || !generated.computed.empty())) {
      for (auto& c : table_columns(table)) if (!iequals(c, ident_col)) cols.push_back(c);
    }
    // VALUES without a column list go to the same columns: each value is converted to its
    // column's type like any other (a datetime2 parameter into a datetime column).
    if (cols.empty() && rest < t.size() && t[rest].is("VALUES")) {
      for (auto& c : table_columns(table)) if (!iequals(c, ident_col)) cols.push_back(c);
    }
    std::vector<Token> rewritten;
    const std::vector<Token>* source_tokens = &st.tokens;
    if (!generated.rowversion.empty() && !default_values) {
      const auto at = std::find_if(cols.begin(), cols.end(), [&](const std::string& c) { return iequals(c, generated.rowversion); });
      if (at != cols.end()) {
        rewritten = without_rowversion_values(t, rest, static_cast<std::size_t>(at - cols.begin()));
        source_tokens = &rewritten;
        cols.erase(at);
      }
    }
    if (rest < t.size() && (t[rest].is("EXEC") || t[rest].is("EXECUTE"))) unsupported("INSERT ... EXEC");
    std::string collist;
    for (auto& c : cols) collist += (collist.empty() ? "" : ", ") + quote_ident(c);
    std::string source = translate_insert_source(*source_tokens, rest, table, cols, explicit_columns, &needs_iv);
    if (!ident_col.empty() && !ident_is_rowid && !ii_on) {
      // Identity on a column that is not the rowid: assign it after the insert from the
      // table's current maximum (documented limitation: one statement at a time).
      (void)seed;
      (void)incr;
    }
    sql = "INSERT INTO " + quote_ident(table) + (collist.empty() ? "" : " (" + collist + ")") + " " + source;
    (void)name_at;
    if (!ident_col.empty() && !ident_is_rowid && !ii_on) {
      const std::string ic = quote_ident(ident_col);
      const std::string fill = "UPDATE " + quote_ident(table) + " SET " + ic + " = (SELECT COALESCE(MAX(" + ic + "), " +
                               std::to_string(seed - incr) + ") + " + std::to_string(incr) + " FROM " + quote_ident(table) +
                               ") WHERE rowid = ?";
      std::int64_t n = write("INSERT", [&](sqlite3* c) {
        Stmt s(c, sql);
        s.step();
        std::int64_t changed = sqlite3_changes(c);
        std::int64_t last = sqlite3_last_insert_rowid(c);
        // Rows inserted by this statement have the highest rowids.
        for (std::int64_t r = last - changed + 1; r <= last; ++r) {
          Stmt u(c, fill);
          u.bind(1, r);
          u.step();
        }
        m_last_identity = query_int(c, "SELECT " + ic + " FROM " + quote_ident(table) + " WHERE rowid = " + std::to_string(last));
        return changed;
      });
      m_statement_rows = n;
      sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, m_nocount ? std::nullopt : std::optional<std::int64_t>(n), false);
      return;
    }
  } else if (kind == "DELETE" && t.size() > 1 && !t[1].is("FROM") && !t[1].is("TOP") &&
             std::none_of(t.begin() + 2, t.end(), [](const Token& x) { return x.is("FROM"); })) {
    // DELETE [schema.]table WHERE ...: FROM is optional in T-SQL, not in SQLite.
    std::vector<Token> with_from = t;
    Token from = t[1];
    from.kind = TokKind::word;
    from.text = "FROM";
    with_from.insert(with_from.begin() + 1, from);
    sql = translate(with_from, 0, with_from.size(), &needs_iv);
  } else if (kind == "UPDATE") {
    const std::vector<Token> tokens = update_with_rowversion(*this, cur(), t);
    sql = translate(tokens, 0, tokens.size(), &needs_iv);
  } else {
    sql = translate(t, 0, t.size(), &needs_iv);
  }
  const std::string xname = kind;
  std::int64_t n = write(xname, [&](sqlite3* c) {
    Stmt s(c, sql);
    while (s.step()) {
    }
    if (!identity_table.empty()) m_last_identity = sqlite3_last_insert_rowid(c);
    return static_cast<std::int64_t>(sqlite3_changes(c));
  });
  m_statement_rows = n;
  sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, m_nocount ? std::nullopt : std::optional<std::int64_t>(n), false);
}

// INSERT [INTO] #t [(cols)] VALUES ... | SELECT ...: tempdb, not logged (tempdb.hpp). An
// identity column is the table's rowid, left out of a column list that does not name it.
void SessionImpl::insert_temp(const Statement& st, std::size_t i, const std::string& name, ResultSink& sink, bool in_proc) {
  const Tokens t(st.tokens);
  const auto tt = find_temp_table(cur(), name, m_spid);
  if (!tt) raise(208, 16, "Invalid object name '" + name + "'.");
  std::vector<std::string> cols;
  std::size_t rest = i;
  if (i < t.size() && is_sym(t[i], "(")) {
    const std::size_t close = match_paren(t, i);
    cols = name_list(t, i, close);
    rest = close + 1;
  }
  const bool explicit_columns = !cols.empty();
  if (rest < t.size() && (t[rest].is("EXEC") || t[rest].is("EXECUTE"))) unsupported("INSERT ... EXEC");
  if (!tt->identity_column.empty()) {
    bool listed = false;
    for (auto& c : cols) listed |= iequals(c, tt->identity_column);
    if (listed) {
      raise(544, 16, "Cannot insert explicit value for identity column in table '" + name + "' when IDENTITY_INSERT is set to OFF.");
    }
    if (cols.empty() && !(rest < t.size() && t[rest].is("DEFAULT"))) {
      Stmt s(cur(), "SELECT name FROM pragma_table_info(?, 'tempdb') ORDER BY cid");
      s.bind(1, tt->sqlite_name);
      while (s.step()) if (!iequals(s.str(0), tt->identity_column)) cols.push_back(s.str(0));
    }
  }
  if (cols.empty() && rest < t.size() && t[rest].is("VALUES")) {
    Stmt s(cur(), "SELECT name FROM pragma_table_info(?, 'tempdb') ORDER BY cid");
    s.bind(1, tt->sqlite_name);
    while (s.step()) cols.push_back(s.str(0));
  }
  std::string collist;
  for (auto& c : cols) collist += (collist.empty() ? "" : ", ") + quote_ident(c);
  bool needs_iv = false;
  // The values converted to their columns' types, as for a permanent table.
  const std::string sql = "INSERT INTO tempdb." + quote_ident(tt->sqlite_name) + (collist.empty() ? "" : " (" + collist + ")") + " " +
                          translate_insert_source(st.tokens, rest, tt->sqlite_name, cols, explicit_columns, &needs_iv, "tempdb", name);
  const std::int64_t n = write("INSERT", [&](sqlite3* c) {
    Stmt s(c, sql);
    while (s.step()) {
    }
    if (!tt->identity_column.empty()) m_last_identity = sqlite3_last_insert_rowid(c);
    return static_cast<std::int64_t>(sqlite3_changes(c));
  });
  m_statement_rows = n;  // @@ROWCOUNT
  sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, m_nocount ? std::nullopt : std::optional<std::int64_t>(n), false);
}

// SELECT ... INTO #t FROM ...: a new temporary table with the query's columns (their declared
// T-SQL types where the query reads a column, the inferred type of an expression otherwise),
// filled by the query. SELECT ... INTO a permanent table is refused (40517).
void SessionImpl::select_into_temp(const Statement& st, std::size_t into_at, ResultSink& sink, bool in_proc) {
  const Tokens t(st.tokens);
  std::size_t j = into_at + 1;
  const ObjName on = parse_name(t, j);
  if (!is_temp_name(on.name)) unsupported("SELECT ... INTO");
  std::vector<Token> query(t.begin(), t.begin() + static_cast<long>(into_at));
  query.insert(query.end(), t.begin() + static_cast<long>(j), t.end());
  bool needs_iv = false;
  const std::string sql = translate(query, 0, query.size(), &needs_iv);
  const auto inferred = infer_select_types(query);
  const std::string sname = temp_sqlite_name(on.name, m_spid);
  std::string ddl = "CREATE TABLE tempdb." + quote_ident(sname) + " (";
  {
    if (needs_iv) refresh_instance_views(cur(), sql);
    Stmt s(cur(), sql);  // prepared, not run: its columns
    const int n = sqlite3_column_count(s.get());
    for (int c = 0; c < n; ++c) {
      const char* name = sqlite3_column_name(s.get(), c);
      const std::string col = name ? name : "";
      if (col.empty() || col.find('(') != std::string::npos || col.find(' ') != std::string::npos) {
        raise(1038, 15, "An object or column name is missing or empty. For SELECT INTO statements, verify each column has a name."
                        " For other statements, look for empty alias names. Aliases defined as \"\" or [] are not allowed."
                        " Change the alias to a valid name.");
      }
      std::string type;
      ColumnType ct;
      if (const char* decl = sqlite3_column_decltype(s.get(), c); decl && parse_type(decl, ct)) type = decl;
      else if (static_cast<int>(inferred.size()) == n && inferred[static_cast<std::size_t>(c)]) type = lower(type_to_string(*inferred[static_cast<std::size_t>(c)]));
      ddl += (c ? ", " : "") + quote_ident(col) + (type.empty() ? "" : " " + type);
    }
  }
  ddl += ")";
  {
    auto db = cur_db();
    std::lock_guard<std::mutex> lock(db->write_mutex);
    sqlite3* c = cur();
    exec(c, "BEGIN IMMEDIATE");
    try {
      if (find_temp_object(c, on.name, m_spid)) raise(2714, 16, "There is already an object named '" + on.name + "' in the database.");
      exec(c, ddl);
      TempTable tt;
      tt.sqlite_name = sname;
      tt.name = on.name;
      tt.owner_spid = m_spid;
      register_temp_table(c, tt);
      exec(c, "COMMIT");
    } catch (...) {
      sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  std::int64_t n = 0;
  try {
    n = write("SELECT INTO", [&](sqlite3* c) {
      if (needs_iv) refresh_instance_views(c, sql);
      exec(c, "INSERT INTO tempdb." + quote_ident(sname) + " " + sql);
      return static_cast<std::int64_t>(sqlite3_changes(c));
    });
  } catch (...) {
    // SELECT INTO is one statement: a failed fill leaves no table behind.
    if (auto tt = find_temp_table(cur(), on.name, m_spid)) drop_temp_table(cur(), *tt);
    throw;
  }
  sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement, m_nocount ? std::nullopt : std::optional<std::int64_t>(n), false);
}

void SessionImpl::do_truncate(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 3 || !t[1].is("TABLE")) syntax_near(t, 1);
  std::size_t i = 2;
  ObjName on = parse_name(t, i);
  if (is_temp_name(on.name)) {
    const auto tt = find_temp_table(cur(), on.name, m_spid);
    if (!tt) raise(4701, 16, "Cannot find the object \"" + on.name + "\" because it does not exist or you do not have permissions.");
    write("TRUNCATE TABLE", [&](sqlite3* c) {
      exec(c, "DELETE FROM tempdb." + quote_ident(tt->sqlite_name));
      if (query_int(c, "SELECT COUNT(*) FROM tempdb.sqlite_master WHERE name = 'sqlite_sequence'")) {
        Stmt s(c, "DELETE FROM tempdb.sqlite_sequence WHERE name = ?");
        s.bind(1, tt->sqlite_name);
        s.step();
      }
      return 0;
    });
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  const std::string table = sqlite_table_name(on.schema, on.name);
  if (!query_int(cur(), "SELECT COUNT(*) FROM __m2r_objects WHERE type = 'U' AND sqlite_name = " + quote_literal(table) + " COLLATE NOCASE"))
    raise(4701, 16, "Cannot find the object \"" + on.name + "\" because it does not exist or you do not have permissions.");
  if (query_int(cur(), "SELECT COUNT(*) FROM __m2r_objects p JOIN __m2r_objects f ON f.referenced_object_id = p.object_id"
                       " WHERE f.type = 'F' AND p.sqlite_name = " + quote_literal(table) + " COLLATE NOCASE"))
    raise(4712, 16, "Cannot truncate table '" + on.display() + "' because it is being referenced by a FOREIGN KEY constraint.");
  // TRUNCATE TABLE's restrictions: not on a table "published by using transactional
  // replication" (nor one enabled for Change Data Capture): Msg 4711.
  if (query_int(cur(), "SELECT COUNT(*) FROM __m2r_objects WHERE type = 'U' AND (is_replicated = 1 OR is_tracked_by_cdc = 1)"
                       " AND sqlite_name = " + quote_literal(table) + " COLLATE NOCASE"))
    raise(4711, 16, "Cannot truncate table '" + on.display() + "' because it is published for replication or enabled for Change Data Capture.");
  write("TRUNCATE TABLE", [&](sqlite3* c) {
    exec(c, "DELETE FROM " + quote_ident(table) + " WHERE rowid IS NOT NULL");
    // TRUNCATE resets the identity seed. sqlite_sequence exists only once some table of the
    // database has an AUTOINCREMENT (IDENTITY) key, so it is looked up before it is named.
    if (query_int(c, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")) {
      Stmt s(c, "DELETE FROM sqlite_sequence WHERE name = ?");
      s.bind(1, table);
      s.step();
    }
    return 0;
  });
  sink.done(DoneKind::statement, std::nullopt, false);
}

// ---------------------------------------------------------------------------------------
// USE, transactions, SET, DECLARE

void SessionImpl::do_use(const Statement& st, ResultSink& sink) {
  if (st.tokens.size() < 2 || !st.tokens[1].is_name()) syntax_near(st.tokens, 1);
  const std::string name = st.tokens[1].text;
  auto db = m_inst.find(name);
  if (!db) raise(911, 16, "Database '" + name + "' does not exist. Make sure that the name is entered correctly.");
  if (db->restoring) raise(927, 14, "Database '" + name + "' cannot be opened. It is in the middle of a restore.");
  check_database_access(db->name);
  // The database's user access mode (README.md "User access modes"): 923, 924.
  if (auto refusal = enter_database(*db, Entry::use)) throw SqlError{*refusal};
  const std::string old = m_db;
  m_db = db->name;
  conn(m_db);
  sink.database_changed(old, m_db);
  Message m;
  m.number = 5701;
  m.severity = 0;
  m.text = "Changed database context to '" + m_db + "'.";
  sink.message(m);
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::open_transaction(const std::string& name) {
  OpenXact x;
  x.db = m_db;
  x.name = name;
  x.begin_time = fn_dblog_time_now();
  m_xact = x;
  notify_transaction(ResultSink::Transaction::began);
}

// SET IMPLICIT_TRANSACTIONS ON: the statements that open a transaction when none is open
// (https://learn.microsoft.com/sql/t-sql/statements/set-implicit-transactions-transact-sql).
// A SELECT opens one only when it reads a table; BEGIN TRANSACTION then nests in it (@@TRANCOUNT 2).
bool starts_implicit_transaction(const Tokens& t, const std::string& head) {
  static const std::set<std::string> heads = {"ALTER", "BEGIN", "CREATE", "DELETE", "DENY", "DROP", "FETCH", "GRANT",
                                              "INSERT", "OPEN", "REVOKE", "TRUNCATE", "UPDATE", "MERGE"};
  if (head == "BEGIN") return t.size() > 1 && (t[1].is("TRAN") || t[1].is("TRANSACTION"));
  if (heads.count(head)) return true;
  if (head != "SELECT" && head != "WITH") return false;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t[k].is("FROM")) return true;
  }
  return false;
}

void SessionImpl::do_begin(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() > 3 && t[3].is("WITH")) unsupported("BEGIN TRANSACTION ... WITH MARK");
  if (m_xact) {
    ++m_xact->trancount;
  } else {
    std::string name = "user_transaction";
    if (t.size() > 2 && (t[2].is_name() || t[2].kind == TokKind::variable)) {
      name = t[2].kind == TokKind::variable ? value_str(token_value(t[2], *this)) : t[2].text;
    }
    open_transaction(name);
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::raise_uncommittable() {
  raise(3930, 16, "The current transaction cannot be committed and cannot support operations that write to the log file. "
                  "Roll back the transaction.");
}

void SessionImpl::do_commit(const Statement& st, ResultSink& sink) {
  (void)st;
  if (!m_xact) raise(3902, 16, "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.");
  if (m_xact->doomed) raise_uncommittable();
  if (--m_xact->trancount > 0) {
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  if (m_xact->logged) {
    auto db = m_inst.find(m_xact->db);
    if (db) {
      std::lock_guard<std::mutex> lock(db->write_mutex);
      sqlite3* c = conn(m_xact->db);
      exec(c, "BEGIN IMMEDIATE");
      try {
        LogRecord e;
        e.operation = "LOP_COMMIT_XACT";
        e.xact_id = format_xact_id(m_xact->id);
        e.end_time = fn_dblog_time_now();
        e.begin_lsn = m_xact->begin_lsn;
        e.spid = m_spid;
        db->append(c, e);
        db->persist_lsn(c);
        exec(c, "COMMIT");
      } catch (...) {
        sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
        db->lsn = LsnState::parse(db->meta("lsn_state"));
        throw;
      }
      // The transaction's locks end with it, under the write mutex (README.md "Transactions and locking").
      db->open_xacts.erase(format_xact_id(m_xact->id));
      m_inst.locks().release_all(m_spid);
    }
  }
  m_xact.reset();
  m_temp_undo.clear();
  m_inst.locks().release_all(m_spid);
  notify_transaction(ResultSink::Transaction::committed);
  sink.done(DoneKind::statement, std::nullopt, false);
}

namespace {
// The name after [ROLLBACK | SAVE] TRAN[SACTION]: a name, [name] or @variable; empty if none.
std::string transaction_name_of(const Tokens& t, SessionImpl& s) {
  if (t.size() < 3 || !(t[1].is("TRAN") || t[1].is("TRANSACTION"))) return {};
  if (t[2].kind == TokKind::variable) return value_str(token_value(t[2], s));
  if (t[2].is_name()) return t[2].text;
  return {};
}
}  // namespace

void SessionImpl::do_rollback(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (!m_xact) raise(3903, 16, "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.");
  const std::string name = transaction_name_of(t, *this);
  // ROLLBACK TRANSACTION savepoint: back to the newest savepoint of that name; the transaction,
  // @@TRANCOUNT and its locks stay (https://learn.microsoft.com/sql/t-sql/language-elements/rollback-transaction-transact-sql).
  if (!name.empty()) {
    auto& points = m_xact->savepoints;
    for (auto it = points.rbegin(); it != points.rend(); ++it) {
      if (it->name != name) continue;
      if (m_xact->doomed) raise_uncommittable();
      const OpenXact::Savepoint point = *it;
      points.erase(it.base(), points.end());  // the later savepoints are gone; this one stays
      rollback_to_savepoint(point);
      sink.done(DoneKind::statement, std::nullopt, false);
      return;
    }
    // The outermost transaction's name rolls everything back; the names of nested BEGINs do not
    // count (SQL Server: 6401).
    if (!iequals(name, m_xact->name)) {
      raise(6401, 16, "Cannot roll back " + name + ". No transaction or savepoint of that name was found.");
    }
  }
  rollback_transaction();
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::do_save(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 2 || !(t[1].is("TRAN") || t[1].is("TRANSACTION"))) syntax_near(t, 1);
  if (!m_xact) raise(628, 16, "Cannot issue SAVE TRANSACTION when there is no active transaction.");
  const std::string name = transaction_name_of(t, *this);
  if (name.empty()) syntax_near(t, 2);
  if (t.size() > 3 && !is_sym(t[3], ";")) syntax_near(t, 3);
  if (m_xact->doomed) raise_uncommittable();
  OpenXact::Savepoint point;
  point.name = name.substr(0, 32);  // savepoint names are at most 32 characters
  point.temp_undo = m_temp_undo.size();
  if (auto db = m_inst.find(m_xact->db)) {
    std::lock_guard<std::mutex> lock(db->write_mutex);
    point.log_seq = query_int(conn(m_xact->db), "SELECT COALESCE(MAX(seq), 0) FROM __m2r_log");
  }
  m_xact->savepoints.push_back(point);
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::rollback_to_savepoint(const OpenXact::Savepoint& point) {
  undo_temp_changes(point.temp_undo);
  if (!m_xact->logged) return;
  auto db = m_inst.find(m_xact->db);
  if (!db) return;
  // The changes since the savepoint are undone with compensation records, as a full rollback
  // writes them, but the transaction goes on: the CDC engine replays both at its commit.
  std::lock_guard<std::mutex> lock(db->write_mutex);
  sqlite3* c = conn(m_xact->db);
  const LsnState saved = db->lsn;
  exec(c, "BEGIN IMMEDIATE");
  try {
    m_suppress_triggers = true;
    undo_records(c, format_xact_id(m_xact->id), &db->lsn, m_spid, true, point.log_seq);
    m_suppress_triggers = false;
    db->persist_lsn(c);
    exec(c, "COMMIT");
  } catch (...) {
    m_suppress_triggers = false;
    sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
    db->lsn = saved;
    throw;
  }
}

void SessionImpl::do_set(const Statement& st, ResultSink& sink, bool in_proc) {
  const Tokens t(st.tokens);
  if (t.size() < 2) syntax_near(t, 1);
  if (t[1].kind == TokKind::variable) {
    const std::string name = lower(t[1].text);
    if (!variable(name)) raise(137, 15, "Must declare the scalar variable \"" + t[1].text + "\".");
    // SET @v op= expr is SET @v = @v op (expr).
    std::size_t op_len = 0;
    if (t.size() > 2 && (is_sym(t[2], "+=") || is_sym(t[2], "-=") || is_sym(t[2], "*=") || is_sym(t[2], "/="))) op_len = 1;
    else if (t.size() > 3 && (is_sym(t[2], "%") || is_sym(t[2], "&") || is_sym(t[2], "|") || is_sym(t[2], "^")) && is_sym(t[3], "=")) op_len = 2;
    if (op_len) {
      Statement rewritten = st;
      auto& r = rewritten.tokens;
      Token op = t[2], eq = t[2], open = t[2], close = t.back();
      op.text = t[2].text.substr(0, 1);
      eq.text = "=";
      open.text = "(";
      close.kind = TokKind::symbol;
      close.text = ")";
      r.erase(r.begin() + 2, r.begin() + 2 + static_cast<long>(op_len));
      r.insert(r.begin() + 2, {eq, t[1], op, open});
      r.push_back(close);
      return do_set(rewritten, sink, in_proc);
    }
    if (t.size() < 4 || !is_sym(t[2], "=")) syntax_near(t, 2);
    bool iv = false;
    std::string expr = translate_assignment(t, 3, t.size(), variable(name)->type, &iv);
    Cell c;
    read("SELECT " + expr, has_nolock_hint(t), [&](sqlite3* conn, bool) {
    c = Cell{};
    if (iv) refresh_instance_views(conn, expr);
    Stmt s(conn, "SELECT " + expr);
    if (s.step()) {
      sqlite3_value* v = sqlite3_column_value(s.get(), 0);
      c.type = sqlite3_value_type(v);
      if (c.type == SQLITE_INTEGER) c.i = sqlite3_value_int64(v);
      else if (c.type == SQLITE_FLOAT) c.d = sqlite3_value_double(v);
      else if (c.type != SQLITE_NULL) c.s.assign(static_cast<const char*>(c.type == SQLITE_BLOB ? sqlite3_value_blob(v) : static_cast<const void*>(sqlite3_value_text(v))) ? static_cast<const char*>(c.type == SQLITE_BLOB ? sqlite3_value_blob(v) : static_cast<const void*>(sqlite3_value_text(v))) : "", static_cast<std::size_t>(sqlite3_value_bytes(v)));
    }
    });
    m_vars[name].value = c;
    // A simple assignment sets @@ROWCOUNT to 1 (learn.microsoft.com/sql/t-sql/functions/rowcount-transact-sql).
    // Inside a procedure or sp_executesql its DONEINPROC carries that count: tedious's own tests,
    // run against SQL Server, expect it; a batch's DONE for it carries none (no "1 row affected").
    sink.done(in_proc ? DoneKind::in_proc : DoneKind::statement,
              in_proc && !m_nocount ? std::optional<std::int64_t>(1) : std::nullopt, false);
    return;
  }
  const std::string opt = upper(t[1].text);
  if (set_session_option(st, opt)) {
    // session_options.cpp: NOCOUNT, the ANSI options, TEXTSIZE, DATEFIRST, DATEFORMAT, LANGUAGE, ...
  } else if (opt == "IDENTITY_INSERT") {
    std::size_t i = 2;
    ObjName on = parse_name(t, i);
    const std::string table = lower(sqlite_table_name(on.schema, on.name));
    if (!query_int(cur(), "SELECT COUNT(*) FROM __m2r_columns c JOIN __m2r_objects o ON o.object_id = c.object_id"
                          " WHERE c.is_identity = 1 AND o.sqlite_name = " + quote_literal(table) + " COLLATE NOCASE"))
      raise(8106, 16, "Table '" + on.display() + "' does not have the identity property. Cannot perform SET operation.");
    if (t.back().is("ON")) {
      if (!m_identity_insert.empty() && !m_identity_insert.count(table))
        raise(8107, 16, "IDENTITY_INSERT is already ON for table '" + m_db + "." + *m_identity_insert.begin() + "'. Cannot perform SET operation for table '" + on.display() + "'.");
      m_identity_insert.insert(table);
    } else {
      m_identity_insert.erase(table);
    }
  } else if (opt == "DEADLOCK_PRIORITY" || opt == "STATISTICS" || opt == "ROWCOUNT" || opt == "TRANSACTION") {
    // Session options whose defaults the sandbox has (README.md "Accepted session options").
    if (opt == "ROWCOUNT" && !(t.size() > 2 && t[2].text == "0")) unsupported("SET ROWCOUNT n");
    if (opt == "TRANSACTION") {
      // README.md "Transactions and locking": READ UNCOMMITTED, READ COMMITTED (locking, or row versions with
      // READ_COMMITTED_SNAPSHOT) and SNAPSHOT are modelled; REPEATABLE READ and SERIALIZABLE
      // need range and held S locks the sandbox does not take: refused, not run as another level.
      // The level is one word (SNAPSHOT, SERIALIZABLE) or two (READ UNCOMMITTED, READ COMMITTED,
      // REPEATABLE READ); what follows it is not part of this statement.
      if (!t[2].is("ISOLATION")) syntax_near(t, 2);
      if (!t[3].is("LEVEL")) syntax_near(t, 3);
      std::string level = upper(t[4].text);
      std::size_t next = 5;
      if (t[4].is("READ") || t[4].is("REPEATABLE")) level += " " + upper(t[next++].text);
      if (next < t.size() && !is_sym(t[next], ";")) syntax_near(t, next);
      if (level == "READ UNCOMMITTED") m_isolation = Isolation::read_uncommitted;
      else if (level == "READ COMMITTED") m_isolation = Isolation::read_committed;
      else if (level == "SNAPSHOT") m_isolation = Isolation::snapshot;
      else if (level == "REPEATABLE READ" || level == "SERIALIZABLE") unsupported("SET TRANSACTION ISOLATION LEVEL " + level);
      else syntax_near(t, 4);
    }
  } else if (opt == "LOCK_TIMEOUT") {
    // SET LOCK_TIMEOUT n: ms a statement waits for a lock; -1 (the default) forever, 0 not at all.
    std::string n;
    for (std::size_t k = 2; k < t.size(); ++k) n += t[k].text;
    char* end = nullptr;
    const long v = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0' || v < -1 || v > 2147483647L) syntax_near(t, 2);
    m_lock_timeout = static_cast<int>(v);
  } else {
    unsupported("SET " + opt);
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::do_declare(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  std::size_t i = 1;
  while (i < t.size()) {
    if (t[i].kind != TokKind::variable) syntax_near(t, i);
    const std::string name = lower(t[i].text);
    ++i;
    if (i < t.size() && t[i].is("AS")) ++i;
    if (i < t.size() && t[i].is("TABLE")) unsupported("DECLARE @table TABLE");
    if (i < t.size() && t[i].is("CURSOR")) unsupported("DECLARE CURSOR");
    std::string decl = type_decl_text(t, i);
    Variable v;
    if (!parse_type(decl, v.type)) raise(2715, 16, "Column, parameter, or variable #1: Cannot find data type " + decl + ".");
    if (i < t.size() && is_sym(t[i], "=")) {
      std::size_t e = i + 1;
      int d = 0;
      for (; e < t.size(); ++e) {
        if (is_sym(t[e], "(")) ++d;
        else if (is_sym(t[e], ")")) --d;
        else if (d == 0 && is_sym(t[e], ",")) break;
      }
      bool iv = false;
      std::string expr = translate_assignment(t, i + 1, e, v.type, &iv);
      read("SELECT " + expr, has_nolock_hint(t), [&](sqlite3* conn, bool) {
      if (iv) refresh_instance_views(conn, expr);
      Stmt s(conn, "SELECT " + expr);
      if (s.step()) {
        Cell c;
        sqlite3_value* val = sqlite3_column_value(s.get(), 0);
        c.type = sqlite3_value_type(val);
        if (c.type == SQLITE_INTEGER) c.i = sqlite3_value_int64(val);
        else if (c.type == SQLITE_FLOAT) c.d = sqlite3_value_double(val);
        else if (c.type == SQLITE_TEXT) c.s = reinterpret_cast<const char*>(sqlite3_value_text(val));
        else if (c.type == SQLITE_BLOB) c.s.assign(static_cast<const char*>(sqlite3_value_blob(val)), static_cast<std::size_t>(sqlite3_value_bytes(val)));
        v.value = c;
      }
      });
      i = e;
    }
    m_vars[name] = v;
    if (i < t.size() && is_sym(t[i], ",")) ++i;
    else break;
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

}  // namespace sandbox::engine
