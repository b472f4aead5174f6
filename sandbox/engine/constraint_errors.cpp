#include "engine/constraint_errors.hpp"

#include <map>
#include <vector>

#include "engine/sqlite_util.hpp"
#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

namespace {

thread_local std::string t_database;
thread_local std::string t_assigned_table;
thread_local std::map<std::string, std::string> t_assigned;  // lower-case column -> shown value

std::string display_table(const std::string& sqlite_name) {
  return sqlite_name.find('.') == std::string::npos ? "dbo." + sqlite_name : sqlite_name;
}

// The statement's first keyword (INSERT, UPDATE, DELETE, MERGE...).
std::string statement_kind(const std::string& sql) {
  std::size_t i = 0;
  while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '(')) ++i;
  std::size_t j = i;
  while (j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j]))) ++j;
  return upper(sql.substr(i, j - i));
}

// The table a statement writes: INSERT INTO "T", UPDATE "T", DELETE FROM "T".
std::string written_table(const std::string& sql) {
  const auto q = sql.find('"');
  if (q == std::string::npos) return {};
  std::string out;
  for (std::size_t i = q + 1; i < sql.size(); ++i) {
    if (sql[i] == '"') {
      if (i + 1 < sql.size() && sql[i + 1] == '"') { out += '"'; ++i; continue; }
      break;
    }
    out += sql[i];
  }
  return out;
}

std::int64_t object_id_of(sqlite3* db, const std::string& sqlite_name) {
  Stmt s(db, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
  s.bind(1, sqlite_name);
  return s.step() ? s.i64(0) : 0;
}

std::string column_name(sqlite3* db, std::int64_t object_id, std::int64_t column_id) {
  Stmt s(db, "SELECT name FROM __m2r_columns WHERE object_id = ? AND column_id = ?");
  s.bind(1, object_id).bind(2, column_id);
  return s.step() ? s.str(0) : std::string();
}

std::string duplicate_key(const std::string& table, const std::vector<std::string>& cols) {
  if (!iequals(table, t_assigned_table)) return {};
  std::string out;
  for (const auto& c : cols) {
    auto it = t_assigned.find(lower(c));
    if (it == t_assigned.end()) return {};
    out += (out.empty() ? "" : ", ") + it->second;
  }
  return " The duplicate key value is (" + out + ").";
}

[[noreturn]] void unique_violation(sqlite3* db, const std::string& message) {
  // "UNIQUE constraint failed: T.a, T.b"
  std::string list = message.substr(message.find(':') + 1);
  std::vector<std::string> cols;
  std::string table;
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t comma = list.find(',', pos);
    std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    const auto dot = item.rfind('.');
    if (dot != std::string::npos) {
      table = item.substr(0, dot);
      cols.push_back(item.substr(dot + 1));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const std::string object = display_table(table);
  const std::string key = duplicate_key(table, cols);
  // The primary key?
  const std::int64_t oid = object_id_of(db, table);
  if (oid) {
    std::vector<std::string> pk;
    Stmt s(db, "SELECT column_id FROM __m2r_index_columns WHERE object_id = ? AND index_id = 1 ORDER BY key_ordinal");
    s.bind(1, oid);
    while (s.step()) pk.push_back(column_name(db, oid, s.i64(0)));
    bool same = pk.size() == cols.size();
    for (std::size_t i = 0; same && i < pk.size(); ++i) same = iequals(pk[i], cols[i]);
    if (same) {
      Stmt n(db, "SELECT name FROM __m2r_objects WHERE type = 'PK' AND parent_object_id = ?");
      n.bind(1, oid);
      const std::string name = n.step() ? n.str(0) : "PK__" + table;
      raise(2627, 14, "Violation of PRIMARY KEY constraint '" + name + "'. Cannot insert duplicate key in object '" + object + "'." + key);
    }
  }
  // A unique index (CREATE UNIQUE INDEX: SQLite index "T.name")?
  {
    Stmt s(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL");
    s.bind(1, table);
    while (s.step()) {
      const std::string iname = s.str(0);
      std::vector<std::string> icols;
      Stmt c(db, "SELECT name FROM pragma_index_info(?) ORDER BY seqno");
      c.bind(1, iname);
      while (c.step()) icols.push_back(c.str(0));
      bool same = icols.size() == cols.size();
      for (std::size_t i = 0; same && i < icols.size(); ++i) same = iequals(icols[i], cols[i]);
      if (!same) continue;
      const std::string shown = iname.rfind(table + ".", 0) == 0 ? iname.substr(table.size() + 1) : iname;
      raise(2601, 14, "Cannot insert duplicate key row in object '" + object + "' with unique index '" + shown + "'." + key);
    }
  }
  // A UNIQUE constraint: the sandbox does not keep its name; UQ__<table> stands for it.
  raise(2627, 14, "Violation of UNIQUE KEY constraint 'UQ__" + table + "'. Cannot insert duplicate key in object '" + object + "'." + key);
}

[[noreturn]] void foreign_key_violation(sqlite3* db, const std::string& sql) {
  const std::string kind = statement_kind(sql);
  const std::string table = written_table(sql);
  const std::int64_t oid = object_id_of(db, table);
  const std::string dbname = t_database;
  // A write to the child meets a missing parent (FOREIGN KEY); a delete or key update of the
  // parent meets children (REFERENCE). The first constraint of that side is named.
  if (oid && kind != "DELETE") {
    Stmt s(db, "SELECT o.name, o.referenced_object_id, (SELECT sqlite_name FROM __m2r_objects p WHERE p.object_id = o.referenced_object_id),"
               " (SELECT referenced_column_id FROM __m2r_fk_columns f WHERE f.constraint_object_id = o.object_id ORDER BY constraint_column_id LIMIT 1)"
               " FROM __m2r_objects o WHERE o.type = 'F' AND o.parent_object_id = ? ORDER BY o.object_id");
    s.bind(1, oid);
    if (s.step()) {
      const std::string parent = s.str(2);
      raise(547, 16, "The " + kind + " statement conflicted with the FOREIGN KEY constraint \"" + s.str(0) +
                         "\". The conflict occurred in database \"" + dbname + "\", table \"" + display_table(parent) +
                         "\", column '" + column_name(db, s.i64(1), s.i64(3)) + "'.", 0);
    }
  }
  if (oid) {
    Stmt s(db, "SELECT o.name, o.parent_object_id, (SELECT sqlite_name FROM __m2r_objects c WHERE c.object_id = o.parent_object_id),"
               " (SELECT parent_column_id FROM __m2r_fk_columns f WHERE f.constraint_object_id = o.object_id ORDER BY constraint_column_id LIMIT 1)"
               " FROM __m2r_objects o WHERE o.type = 'F' AND o.referenced_object_id = ? ORDER BY o.object_id");
    s.bind(1, oid);
    if (s.step()) {
      raise(547, 16, "The " + kind + " statement conflicted with the REFERENCE constraint \"" + s.str(0) +
                         "\". The conflict occurred in database \"" + dbname + "\", table \"" + display_table(s.str(2)) +
                         "\", column '" + column_name(db, s.i64(1), s.i64(3)) + "'.", 0);
    }
  }
  raise(547, 16, "The " + kind + " statement conflicted with a FOREIGN KEY constraint. The conflict occurred in database \"" +
                     dbname + "\".", 0);
}

}  // namespace

void set_statement_database(const std::string& name) {
  t_database = name;
  t_assigned_table.clear();
  t_assigned.clear();
}

void note_assigned_value(const std::string& table, const std::string& column, const std::string& shown) {
  if (!iequals(table, t_assigned_table)) {
    t_assigned_table = table;
    t_assigned.clear();
  }
  t_assigned[lower(column)] = shown;
}

void raise_constraint_error(sqlite3* db, int ext, const std::string& message, const std::string& sql) {
  if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_ROWID) {
    unique_violation(db, message);
  }
  if (ext == SQLITE_CONSTRAINT_NOTNULL) {
    // "NOT NULL constraint failed: T.c"
    const std::string item = message.substr(message.find(':') + 2);
    const auto dot = item.rfind('.');
    const std::string table = item.substr(0, dot), column = item.substr(dot + 1);
    std::string kind = statement_kind(sql);
    if (kind != "UPDATE") kind = "INSERT";
    raise(515, 16, "Cannot insert the value NULL into column '" + column + "', table '" + t_database + "." +
                       display_table(table) + "'; column does not allow nulls. " + kind + " fails.", 2);
  }
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) foreign_key_violation(db, sql);
  if (ext == SQLITE_CONSTRAINT_CHECK) {
    // "CHECK constraint failed: name" (ddl.cpp names every check; "name|column" for a column's).
    std::string name = message.substr(message.find(':') + 2);
    std::string column;
    if (const auto bar = name.find('|'); bar != std::string::npos) {
      column = name.substr(bar + 1);
      name = name.substr(0, bar);
    }
    const std::string table = written_table(sql);
    raise(547, 16, "The " + statement_kind(sql) + " statement conflicted with the CHECK constraint \"" + name +
                       "\". The conflict occurred in database \"" + t_database + "\", table \"" + display_table(table) + "\"" +
                       (column.empty() ? std::string() : ", column '" + column + "'") + ".", 0);
  }
}

}  // namespace sandbox::engine
