#include "engine/sqlite_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "engine/constraint_errors.hpp"
#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

namespace {
thread_local std::optional<Message> t_function_error;
thread_local const std::string* t_failed_sql = nullptr;  // the SQL of the step that failed

void raise_function_error() {
  if (!t_function_error) return;
  Message m = std::move(*t_function_error);
  t_function_error.reset();
  throw SqlError{m};
}
}  // namespace

void set_function_error(const Message& msg) { t_function_error = msg; }

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
  const char* text = sqlite3_sql(m_stmt);
  const std::string sql = text ? text : "";
  t_failed_sql = &sql;
  try {
    raise_sqlite(m_db, rc, "statement");
  } catch (...) {
    t_failed_sql = nullptr;
    throw;
  }
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
    raise_function_error();
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
  raise_function_error();
  std::string msg = sqlite3_errmsg(db);
  const int ext = sqlite3_extended_errcode(db);
  if (t_failed_sql) raise_constraint_error(db, ext, msg, *t_failed_sql);
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
  } else if (base == "money") { out.type = SqlType::money; out.precision = 19; out.scale = 4; }
  else if (base == "smallmoney") { out.type = SqlType::smallmoney; out.precision = 10; out.scale = 4; }
  else if (base == "float") out.type = (!args.empty() && a1 >= 1 && a1 <= 24) ? SqlType::real : SqlType::float_;
  else if (base == "real") out.type = SqlType::real;
  else if (base == "varchar" || base == "nvarchar" || base == "sysname") {
    out.type = base == "varchar" ? SqlType::varchar : SqlType::nvarchar;
    out.length = base == "sysname" ? 128 : is_max ? k_max_length : (a1 ? a1 : 1);
  } else if (base == "char" || base == "nchar" || base == "character") {
    out.type = base == "nchar" ? SqlType::nchar : SqlType::char_;
    out.length = a1 ? a1 : 1;
  } else if (base == "text") { out.type = SqlType::text; out.length = k_max_length; }
  else if (base == "ntext") { out.type = SqlType::ntext; out.length = k_max_length; }
  else if (base == "image") { out.type = SqlType::image; out.length = k_max_length; }
  else if (base == "xml") { out.type = SqlType::xml; out.length = k_max_length; }
  else if (base == "sql_variant") { out.type = SqlType::sql_variant; out.length = 8016; }
  else if (base == "datetime") out.type = SqlType::datetime;
  else if (base == "smalldatetime") out.type = SqlType::smalldatetime;
  else if (base == "date") out.type = SqlType::date;
  else if (base == "datetime2" || base == "datetimeoffset" || base == "time") {
    out.type = base == "time" ? SqlType::time : base == "datetimeoffset" ? SqlType::datetimeoffset : SqlType::datetime2;
    out.scale = args.empty() ? 7 : std::min(a1, 7);
  } else if (base == "uniqueidentifier") out.type = SqlType::uniqueidentifier;
  else if (base == "varbinary") {
    out.type = SqlType::varbinary;
    out.length = is_max ? k_max_length : (a1 ? a1 : 1);
  } else if (base == "binary" || base == "rowversion" || base == "timestamp") {
    out.type = SqlType::binary;
    out.length = a1 ? a1 : (base == "binary" ? 1 : 8);
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
    case SqlType::real: return "real";
    case SqlType::money: return "money";
    case SqlType::smallmoney: return "smallmoney";
    case SqlType::varchar: return "varchar(" + len(t.length) + ")";
    case SqlType::nvarchar: return "nvarchar(" + len(t.length) + ")";
    case SqlType::char_: return "char(" + len(t.length) + ")";
    case SqlType::nchar: return "nchar(" + len(t.length) + ")";
    case SqlType::text: return "text";
    case SqlType::ntext: return "ntext";
    case SqlType::image: return "image";
    case SqlType::xml: return "xml";
    case SqlType::datetime: return "datetime";
    case SqlType::smalldatetime: return "smalldatetime";
    case SqlType::date: return "date";
    case SqlType::datetime2: return "datetime2(" + std::to_string(t.scale) + ")";
    case SqlType::time: return "time(" + std::to_string(t.scale) + ")";
    case SqlType::datetimeoffset: return "datetimeoffset(" + std::to_string(t.scale) + ")";
    case SqlType::uniqueidentifier: return "uniqueidentifier";
    case SqlType::varbinary: return "varbinary(" + len(t.length) + ")";
    case SqlType::binary: return "binary(" + len(t.length) + ")";
    case SqlType::sql_variant: return "sql_variant";
  }
  return "int";
}

}  // namespace sandbox::engine
