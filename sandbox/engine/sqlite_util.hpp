#pragma once
// Thin RAII over the SQLite C API for the sandbox engine. Failures throw SqlError,
// which the executor turns into a SQL Server-style message.
#ifndef SQLITE_ENABLE_PREUPDATE_HOOK
#define SQLITE_ENABLE_PREUPDATE_HOOK 1  // Debian's libsqlite3 has it compiled in
#endif
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/api.hpp"

namespace sandbox::engine {

// A SQL Server error raised anywhere in the engine; caught per statement.
struct SqlError {
  Message msg;
};
[[noreturn]] void raise(int number, int severity, std::string text, int state = 1);

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, const std::string& v);
  Stmt& bind(int i, double v);
  Stmt& bind_null(int i);
  Stmt& bind_value(int i, sqlite3_value* v);
  bool step();  // true: a row
  void reset();
  std::int64_t i64(int col) const;
  std::string str(int col) const;
  bool null(int col) const;
  sqlite3_stmt* get() const { return m_stmt; }

 private:
  sqlite3* m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

void exec(sqlite3* db, const std::string& sql);
// Runs a query returning one integer (or def when no row / NULL).
std::int64_t query_int(sqlite3* db, const std::string& sql, std::int64_t def = 0);
std::string query_str(sqlite3* db, const std::string& sql, const std::string& def = {});
std::string quote_ident(const std::string& name);  // "name" for SQLite
std::string quote_literal(const std::string& text);  // 'text' for SQLite

// A SQL function that must fail the statement with a SQL Server error (8134, 245, 8115...)
// sets it here, then calls sqlite3_result_error; raise_sqlite and exec raise it instead of
// SQLite's text. Per thread: a session's statements run on its connection's thread.
void set_function_error(const Message& msg);

// Maps a SQLite error on a user statement to the SQL Server message closest to it.
[[noreturn]] void raise_sqlite(sqlite3* db, int rc, const std::string& statement_kind);

// Parses a T-SQL type name as declared ("nvarchar(50)", "decimal(18,2)", "int") into a ColumnType.
// Returns false for types the sandbox does not speak.
bool parse_type(const std::string& decl, ColumnType& out);
std::string type_to_string(const ColumnType& t);

}  // namespace sandbox::engine
