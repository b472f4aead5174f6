#pragma once
// Temporary tables (README.md "Temporary tables"): tempdb is one SQLite file per instance,
// DATA_DIR/tempdb.sqlite, emptied when the instance opens (SQL Server re-creates tempdb at
// startup) and ATTACHed to every session connection as schema `tempdb`. Its changes are
// never captured by the preupdate hook (which logs schema `main` only), so they never reach a
// user database's log or the CDC engine.
//
// #t (local) is the SQLite table "#t__s<spid>": visible to its session (and the procedures it
// runs) only, dropped by DROP TABLE or when the session ends. ##t (global) is "##t": visible
// to every session, dropped when the session that created it ends. tempdb.__m2r_temp_objects
// is their catalog (object ids, owners, identity columns).
//
// Temporary procedures (#p, ##p) share that catalog, with the same visibility and lifetime:
// in SQL Server they are objects of tempdb too, so a #p and a #t cannot have the same name.
#include <cstdint>
#include <optional>
#include <string>

#include "engine/sqlite_util.hpp"

namespace sandbox::engine {

inline bool is_temp_name(const std::string& name) { return !name.empty() && name[0] == '#'; }
inline bool is_global_temp_name(const std::string& name) { return name.size() > 1 && name[0] == '#' && name[1] == '#'; }

// The SQLite table (in schema tempdb) behind #name or ##name for session `spid`.
std::string temp_sqlite_name(const std::string& name, int spid);
// `tempdb."<sqlite name>"`, as translated SQL names it.
std::string temp_qualified(const std::string& name, int spid);

std::string tempdb_path(const std::string& data_dir);
void reset_tempdb(const std::string& data_dir);  // at instance open
void attach_tempdb(sqlite3* c, const std::string& data_dir);  // on every session connection

struct TempTable {
  std::int64_t object_id = 0;  // negative, as SQL Server's temporary objects' ids are
  std::string sqlite_name;
  std::string name;            // as created (#t)
  int owner_spid = 0;
  std::string identity_column;  // empty: none
  std::string type = "U";       // U (table) or P (procedure), as sys.objects.type
  std::string definition;       // a procedure's CREATE PROCEDURE text
};

// Any temporary object of that name the session sees (a name taken: 2714).
std::optional<TempTable> find_temp_object(sqlite3* c, const std::string& name, int spid);
std::optional<TempTable> find_temp_table(sqlite3* c, const std::string& name, int spid);
std::optional<TempTable> find_temp_procedure(sqlite3* c, const std::string& name, int spid);
void register_temp_table(sqlite3* c, const TempTable& t);  // a table or a procedure
void update_temp_procedure(sqlite3* c, const TempTable& p);  // ALTER PROCEDURE #p
void drop_temp_table(sqlite3* c, const TempTable& t);
// A session's end: its local temporary objects and the global ones it created go.
void drop_session_temp_tables(sqlite3* c, int spid);

}  // namespace sandbox::engine
