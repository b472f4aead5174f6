#include "engine/tempdb.hpp"

#include <filesystem>
#include <vector>

namespace sandbox::engine {

std::string temp_sqlite_name(const std::string& name, int spid) {
  if (is_global_temp_name(name)) return name;
  return name + "__s" + std::to_string(spid);
}

std::string temp_qualified(const std::string& name, int spid) { return "tempdb." + quote_ident(temp_sqlite_name(name, spid)); }

std::string tempdb_path(const std::string& data_dir) { return data_dir + "/tempdb.sqlite"; }

void reset_tempdb(const std::string& data_dir) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(tempdb_path(data_dir) + suffix, ec);
}

void attach_tempdb(sqlite3* c, const std::string& data_dir) {
  exec(c, "ATTACH DATABASE " + quote_literal(tempdb_path(data_dir)) + " AS tempdb");
  exec(c, "PRAGMA tempdb.journal_mode = WAL;"
          "CREATE TABLE IF NOT EXISTS tempdb.__m2r_temp_objects(object_id INTEGER PRIMARY KEY, sqlite_name TEXT UNIQUE COLLATE NOCASE,"
          " name TEXT, owner_spid INTEGER, identity_column TEXT, type TEXT NOT NULL DEFAULT 'U', definition TEXT)");
}

std::optional<TempTable> find_temp_object(sqlite3* c, const std::string& name, int spid) {
  Stmt s(c, "SELECT object_id, sqlite_name, name, owner_spid, identity_column, type, definition FROM tempdb.__m2r_temp_objects"
            " WHERE sqlite_name = ?");
  s.bind(1, temp_sqlite_name(name, spid));
  if (!s.step()) return std::nullopt;
  TempTable t;
  t.object_id = s.i64(0);
  t.sqlite_name = s.str(1);
  t.name = s.str(2);
  t.owner_spid = static_cast<int>(s.i64(3));
  t.identity_column = s.null(4) ? std::string() : s.str(4);
  t.type = s.str(5);
  t.definition = s.null(6) ? std::string() : s.str(6);
  return t;
}

std::optional<TempTable> find_temp_table(sqlite3* c, const std::string& name, int spid) {
  auto t = find_temp_object(c, name, spid);
  if (t && t->type != "U") return std::nullopt;
  return t;
}

std::optional<TempTable> find_temp_procedure(sqlite3* c, const std::string& name, int spid) {
  auto t = find_temp_object(c, name, spid);
  if (t && t->type != "P") return std::nullopt;
  return t;
}

void register_temp_table(sqlite3* c, const TempTable& t) {
  // Ids count down from -100000001: SQL Server's temporary objects have negative ids too.
  Stmt s(c, "INSERT INTO tempdb.__m2r_temp_objects(object_id, sqlite_name, name, owner_spid, identity_column, type, definition)"
            " SELECT MIN(COALESCE(MIN(object_id), -100000000), -100000000) - 1, ?, ?, ?, ?, ?, ? FROM tempdb.__m2r_temp_objects");
  s.bind(1, t.sqlite_name).bind(2, t.name).bind(3, static_cast<std::int64_t>(t.owner_spid));
  if (t.identity_column.empty()) s.bind_null(4);
  else s.bind(4, t.identity_column);
  s.bind(5, t.type);
  if (t.definition.empty()) s.bind_null(6);
  else s.bind(6, t.definition);
  s.step();
}

void update_temp_procedure(sqlite3* c, const TempTable& p) {
  Stmt s(c, "UPDATE tempdb.__m2r_temp_objects SET definition = ? WHERE object_id = ?");
  s.bind(1, p.definition).bind(2, p.object_id);
  s.step();
}

void drop_temp_table(sqlite3* c, const TempTable& t) {
  if (t.type == "U") exec(c, "DROP TABLE IF EXISTS tempdb." + quote_ident(t.sqlite_name));
  Stmt s(c, "DELETE FROM tempdb.__m2r_temp_objects WHERE object_id = ?");
  s.bind(1, t.object_id);
  s.step();
  if (query_int(c, "SELECT COUNT(*) FROM tempdb.sqlite_master WHERE name = 'sqlite_sequence'")) {
    Stmt q(c, "DELETE FROM tempdb.sqlite_sequence WHERE name = ?");
    q.bind(1, t.sqlite_name);
    q.step();
  }
}

void drop_session_temp_tables(sqlite3* c, int spid) {
  std::vector<TempTable> mine;
  {
    Stmt s(c, "SELECT object_id, sqlite_name, name, owner_spid, type FROM tempdb.__m2r_temp_objects WHERE owner_spid = ?");
    s.bind(1, static_cast<std::int64_t>(spid));
    while (s.step()) {
      TempTable t;
      t.object_id = s.i64(0);
      t.sqlite_name = s.str(1);
      t.name = s.str(2);
      t.owner_spid = spid;
      t.type = s.str(4);
      mine.push_back(t);
    }
  }
  for (const auto& t : mine) drop_temp_table(c, t);
}

}  // namespace sandbox::engine
