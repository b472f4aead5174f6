#include "engine/sqlite_util.hpp"

#include <cstdlib>

#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

void raise(int number, int severity, std::string text, int state) {
  Message m;
  m.number = number;
  m.severity = severity;
  m.state = state;
  m.text = std::move(text);
  throw SqlError{m};
}

Stmt::Stmt(sqlite3* db, const std::string& sql) : m_db(db) {
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &m_stmt, nullptr);
  if (rc != SQLITE_OK) raise_sqlite(db, rc, "statement");
}
Stmt::~Stmt() { sqlite3_finalize(m_stmt); }
Stmt& Stmt::bind(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); return *this; }
Stmt& Stmt::bind(int i, const std::string& v) {
  sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int i, double v) { sqlite3_bind_double(m_stmt, i, v); return *this; }
Stmt& Stmt::bind_null(int i) { sqlite3_bind_null(m_stmt, i); return *this; }
Stmt& Stmt::bind_value(int i, sqlite3_value* v) { sqlite3_bind_value(m_stmt, i, v); return *this; }
bool Stmt::step() {
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  raise_sqlite(m_db, rc, "statement");
}
void Stmt::reset() { sqlite3_reset(m_stmt); sqlite3_clear_bindings(m_stmt); }
std::int64_t Stmt::i64(int col) const { return sqlite3_column_int64(m_stmt, col); }
std::string Stmt::str(int col) const {
  const auto* p = sqlite3_column_text(m_stmt, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))) : std::string();
}
bool Stmt::null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string text = err ? err : "error";
    sqlite3_free(err);
    raise(50000, 16, "Internal sandbox error: " + text + " in: " + sql.substr(0, 200));
  }
}

std::int64_t query_int(sqlite3* db, const std::string& sql, std::int64_t def) {
  Stmt s(db, sql);
  if (s.step() && !s.null(0)) return s.i64(0);
  return def;
}
std::string query_str(sqlite3* db, const std::string& sql, const std::string& def) {
  Stmt s(db, sql);
  if (s.step() && !s.null(0)) return s.str(0);
  return def;
}

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
std::string quote_literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

void raise_sqlite(sqlite3* db, int rc, const std::string& statement_kind) {
  std::string msg = sqlite3_errmsg(db);
  const int ext = sqlite3_extended_errcode(db);
  if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_ROWID) {
    raise(2627, 14, "Violation of PRIMARY KEY constraint. Cannot insert duplicate key (" + msg + ").");
  }
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
    raise(547, 16, "The " + upper(statement_kind) + " statement conflicted with a FOREIGN KEY constraint. The conflict occurred in database.");
  }
  if (ext == SQLITE_CONSTRAINT_NOTNULL) {
    raise(515, 16, "Cannot insert the value NULL into column; column does not allow nulls. " + upper(statement_kind) + " fails. (" + msg + ")");
  }
  if (msg.rfind("no such table: ", 0) == 0) raise(208, 16, "Invalid object name '" + msg.substr(15) + "'.");
  if (msg.rfind("no such column: ", 0) == 0) raise(207, 16, "Invalid column name '" + msg.substr(16) + "'.");
  // m2r_var() on an undeclared variable: SQL Server's compile error 137.
  if (msg.rfind("Must declare the scalar variable ", 0) == 0) raise(137, 15, msg);
  if (msg.find("syntax error") != std::string::npos) {
    auto q = msg.find('"');
    std::string near = q != std::string::npos ? msg.substr(q + 1, msg.find('"', q + 1) - q - 1) : msg;
    raise(102, 15, "Incorrect syntax near '" + near + "'.");
  }
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) raise(1222, 16, "Lock request time out period exceeded.");
  raise(50000, 16, "The sandbox engine could not run this " + statement_kind + " statement: " + msg);
}

bool parse_type(const std::string& decl_in, ColumnType& out) {
  std::string decl = lower(decl_in);
  std::string base = decl, args;
  auto p = decl.find('(');
  if (p != std::string::npos) {
    base = decl.substr(0, p);
    args = decl.substr(p + 1, decl.find(')') == std::string::npos ? std::string::npos : decl.find(')') - p - 1);
  }
  while (!base.empty() && base.back() == ' ') base.pop_back();
  // "numeric blob(25,0)": the engine's SQLite declaration of a wide decimal (ddl.cpp).
  if (base.size() > 5 && base.compare(base.size() - 5, 5, " blob") == 0) base.resize(base.size() - 5);
  int a1 = 0, a2 = 0;
  bool is_max = args.find("max") != std::string::npos;
  if (!args.empty() && !is_max) {
    a1 = std::atoi(args.c_str());
    auto c = args.find(',');
    if (c != std::string::npos) a2 = std::atoi(args.c_str() + c + 1);
  }
  out = ColumnType{};
  if (base == "int" || base == "integer") out.type = SqlType::int_;
  else if (base == "bigint") out.type = SqlType::bigint;
  else if (base == "smallint") out.type = SqlType::smallint;
  else if (base == "tinyint") out.type = SqlType::tinyint;
  else if (base == "bit") out.type = SqlType::bit;
  else if (base == "decimal" || base == "numeric") {
    out.type = SqlType::decimal;
    out.precision = a1 ? a1 : 18;
    out.scale = a2;
  } else if (base == "money") { out.type = SqlType::decimal; out.precision = 19; out.scale = 4; }
  else if (base == "smallmoney") { out.type = SqlType::decimal; out.precision = 10; out.scale = 4; }
  else if (base == "float" || base == "real") out.type = SqlType::float_;
  else if (base == "varchar" || base == "char" || base == "text" || base == "sysname" || base == "nvarchar" ||
           base == "nchar" || base == "ntext") {
    out.type = (base[0] == 'n' && base != "sysname") || base == "sysname" ? SqlType::nvarchar : SqlType::varchar;
    out.length = base == "sysname" ? 128 : (is_max || base == "text" || base == "ntext") ? k_max_length : (a1 ? a1 : 1);
  } else if (base == "datetime" || base == "smalldatetime" || base == "date") out.type = SqlType::datetime;
  else if (base == "datetime2" || base == "datetimeoffset" || base == "time") {
    out.type = SqlType::datetime2;
    out.scale = args.empty() ? 7 : a1;
  } else if (base == "uniqueidentifier") out.type = SqlType::uniqueidentifier;
  else if (base == "varbinary" || base == "binary" || base == "image" || base == "rowversion" || base == "timestamp") {
    out.type = SqlType::varbinary;
    out.length = (is_max || base == "image") ? k_max_length : (a1 ? a1 : (base == "rowversion" || base == "timestamp" ? 8 : 1));
  } else {
    return false;
  }
  return true;
}

std::string type_to_string(const ColumnType& t) {
  auto len = [](int l) { return l == k_max_length ? std::string("max") : std::to_string(l); };
  switch (t.type) {
    case SqlType::int_: return "int";
    case SqlType::bigint: return "bigint";
    case SqlType::smallint: return "smallint";
    case SqlType::tinyint: return "tinyint";
    case SqlType::bit: return "bit";
    case SqlType::decimal: return "decimal(" + std::to_string(t.precision) + "," + std::to_string(t.scale) + ")";
    case SqlType::float_: return "float";
    case SqlType::varchar: return "varchar(" + len(t.length) + ")";
    case SqlType::nvarchar: return "nvarchar(" + len(t.length) + ")";
    case SqlType::datetime: return "datetime";
    case SqlType::datetime2: return "datetime2(" + std::to_string(t.scale) + ")";
    case SqlType::uniqueidentifier: return "uniqueidentifier";
    case SqlType::varbinary: return "varbinary(" + len(t.length) + ")";
  }
  return "int";
}

}  // namespace sandbox::engine
