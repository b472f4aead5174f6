#include "core/source_permissions.hpp"

#include <fmt/format.h>

namespace m2r {

namespace {

constexpr const char* k_id = "source.permissions";
constexpr const char* k_title = "source login has the permissions DMS and the backup need";

// [name] with ] doubled: T-SQL's delimited identifier.
std::string bracket(const std::string& name) {
  std::string out = "[";
  for (char c : name) out += c == ']' ? std::string("]]") : std::string(1, c);
  return out + "]";
}

bool held(const std::optional<bool>& v) { return v.value_or(false); }
bool has_user(const std::string& user_name) { return !user_name.empty() && user_name != "guest"; }

}  // namespace

std::vector<MissingGrant> missing_source_grants(const SourcePermissionFacts& f, const std::string& database) {
  std::vector<MissingGrant> out;
  if (f.is_sysadmin) return out;
  const std::string login = bracket(f.login);
  const std::string db = bracket(database);
  // A user without one of its own is granted through the user the statement creates (named as
  // the login, as `CREATE USER [l] FOR LOGIN [l]` names it).
  auto user_in = [&](const std::string& user_name) { return has_user(user_name) ? bracket(user_name) : login; };
  if (!held(f.db_owner)) {
    out.push_back({"db_owner on " + database,
                   has_user(f.database_user)
                       ? fmt::format("USE {}; ALTER ROLE db_owner ADD MEMBER {};", db, bracket(f.database_user))
                       : fmt::format("USE {}; CREATE USER {} FOR LOGIN {}; ALTER ROLE db_owner ADD MEMBER {};", db, login,
                                     login, login)});
  }
  if (!held(f.view_server_state)) {
    out.push_back({"VIEW SERVER STATE", fmt::format("USE master; GRANT VIEW SERVER STATE TO {};", login)});
  }
  if (!has_user(f.master_user)) {
    out.push_back({"a user in master", fmt::format("USE master; CREATE USER {} FOR LOGIN {};", login, login)});
  }
  if (!held(f.select_fn_dblog)) {
    out.push_back({"SELECT on sys.fn_dblog",
                   fmt::format("USE master; GRANT SELECT ON sys.fn_dblog TO {};", user_in(f.master_user))});
  }
  if (!has_user(f.msdb_user)) {
    out.push_back({"a user in msdb", fmt::format("USE msdb; CREATE USER {} FOR LOGIN {};", login, login)});
  }
  const std::pair<const char*, const std::optional<bool>*> tables[] = {
      {"backupset", &f.select_backupset}, {"backupmediafamily", &f.select_backupmediafamily},
      {"backupfile", &f.select_backupfile}};
  for (const auto& [table, granted] : tables) {
    if (held(*granted)) continue;
    out.push_back({fmt::format("SELECT on msdb.dbo.{}", table),
                   fmt::format("USE msdb; GRANT SELECT ON dbo.{} TO {};", table, user_in(f.msdb_user))});
  }
  return out;
}

CheckResult evaluate_source_permissions(const SourcePermissionFacts& f, const std::string& database) {
  CheckResult r{.id = k_id, .title = k_title};
  if (f.is_sysadmin) {
    r.detail = fmt::format("{} is sysadmin", f.login.empty() ? std::string("the login") : f.login);
    return r;
  }
  if (!f.known) {
    r.status = CheckStatus::fail;
    r.detail = "could not read the login's permissions: " + f.error;
    r.fix = "connect with a login that may run HAS_PERMS_BY_NAME and IS_ROLEMEMBER (any login can), or as sysadmin";
    return r;
  }
  const auto missing = missing_source_grants(f, database);
  if (missing.empty()) {
    r.detail = fmt::format("{}: db_owner on {}, VIEW SERVER STATE, SELECT on sys.fn_dblog and on msdb's backupset, "
                           "backupmediafamily and backupfile (docs/facts.md §3)",
                           f.login, database);
    return r;
  }
  r.status = CheckStatus::fail;
  std::string what, statements;
  for (const auto& m : missing) {
    what += (what.empty() ? "" : ", ") + m.permission;
    statements += (statements.empty() ? "" : " ") + m.statement;
  }
  r.detail = fmt::format("{} (not sysadmin) lacks: {}", f.login, what);
  r.fix = "as a sysadmin, run: " + statements;
  return r;
}

}  // namespace m2r
