#include "migrate/source_permission_facts.hpp"

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

namespace {

std::optional<bool> flag(const mssql::QueryResult& r, const char* column) {
  auto v = r.first().value(0, column);
  if (!v || v->is_null()) return std::nullopt;  // HAS_PERMS_BY_NAME's NULL: the securable is unknown
  return v->to_text() == "1";
}

std::string text(const mssql::QueryResult& r, const char* column) {
  auto v = r.first().value(0, column);
  return v && !v->is_null() ? v->to_text() : "";
}

// USER_NAME() in `db` ("guest" when the login has no user there), the session back in `home`.
std::string user_in(mssql::SqlSession& s, const std::string& db, const std::string& home) {
  auto r = s.query(fmt::format("USE {}; SELECT USER_NAME() AS u; USE {};", db, home), {},
                   {.idempotent = mssql::Idempotent::yes});
  if (!r) {
    (void)s.execute("USE " + home);
    return "";
  }
  return text(*r, "u");
}

}  // namespace

SourcePermissionFacts gather_source_permission_facts(mssql::SqlSession& s, const std::string& database) {
  SourcePermissionFacts f;
  auto home = tsql::quote_name(database);
  if (!home) {
    f.error = home.error().message;
    return f;
  }
  // docs/facts.md §3, each asked as the login: the functions answer for the caller.
  auto r = s.query(
      "SELECT SUSER_SNAME() AS login, IS_SRVROLEMEMBER('sysadmin') AS is_sysadmin, IS_ROLEMEMBER('db_owner') AS db_owner,"
      " USER_NAME() AS db_user, HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS view_server_state,"
      " HAS_PERMS_BY_NAME('sys.fn_dblog', 'OBJECT', 'SELECT') AS fn_dblog,"
      " HAS_PERMS_BY_NAME('msdb.dbo.backupset', 'OBJECT', 'SELECT') AS backupset,"
      " HAS_PERMS_BY_NAME('msdb.dbo.backupmediafamily', 'OBJECT', 'SELECT') AS backupmediafamily,"
      " HAS_PERMS_BY_NAME('msdb.dbo.backupfile', 'OBJECT', 'SELECT') AS backupfile",
      {}, {.idempotent = mssql::Idempotent::yes});
  if (!r) {
    f.error = r.error().message;
    return f;
  }
  f.known = true;
  f.login = text(*r, "login");
  f.is_sysadmin = flag(*r, "is_sysadmin").value_or(false);
  f.db_owner = flag(*r, "db_owner");
  f.database_user = text(*r, "db_user");
  f.view_server_state = flag(*r, "view_server_state");
  f.select_fn_dblog = flag(*r, "fn_dblog");
  f.select_backupset = flag(*r, "backupset");
  f.select_backupmediafamily = flag(*r, "backupmediafamily");
  f.select_backupfile = flag(*r, "backupfile");
  if (!f.is_sysadmin) {
    f.master_user = user_in(s, "master", *home);
    f.msdb_user = user_in(s, "msdb", *home);
  }
  return f;
}

}  // namespace m2r
