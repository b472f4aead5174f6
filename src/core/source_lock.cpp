#include "core/source_lock.hpp"

#include <fmt/format.h>

#include "core/ascii_case.hpp"
#include "core/tsql.hpp"

namespace m2r::source_lock {

std::string user_access_query() { return "SELECT user_access_desc FROM sys.databases WHERE name = ?"; }

std::string qualification_query() {
  return "SELECT IS_SRVROLEMEMBER(N'sysadmin', ?) AS sysadmin, IS_SRVROLEMEMBER(N'dbcreator', ?) AS dbcreator, "
         "(SELECT COUNT(*) FROM sys.database_principals u WHERE u.sid = SUSER_SID(?) AND (u.name = N'dbo' OR EXISTS "
         "(SELECT 1 FROM sys.database_role_members rm JOIN sys.database_principals r ON r.principal_id = "
         "rm.role_principal_id WHERE rm.member_principal_id = u.principal_id AND r.name = N'db_owner'))) AS db_owner";
}

Expected<std::string> lock_statement(const std::string& database) {
  return fmt::format("ALTER DATABASE {} SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE", M2R_TRY(tsql::quote_name(database)));
}

Expected<std::string> restore_statement(const std::string& database, const std::string& access) {
  if (!iequals(access, "MULTI_USER") && !iequals(access, "RESTRICTED_USER")) {
    return fail(ErrorKind::journal_damaged,
                fmt::format("the journal records the source's user access before the lock as '{}'", access),
                "set it by hand: ALTER DATABASE [db] SET MULTI_USER");
  }
  return fmt::format("ALTER DATABASE {} SET {}", M2R_TRY(tsql::quote_name(database)), iequals(access, "MULTI_USER") ? "MULTI_USER" : "RESTRICTED_USER");
}

std::string Qualification::describe() const {
  if (!exists) return login + " (no such login on the source server)";
  std::string roles;
  for (auto [on, name] : {std::pair{sysadmin, "sysadmin"}, {dbcreator, "dbcreator"}, {db_owner, "db_owner"}}) {
    if (on) roles += (roles.empty() ? "" : ", ") + std::string(name);
  }
  return login + (roles.empty() ? " (not sysadmin, dbcreator or db_owner)" : " (" + roles + ")");
}

Expected<LockAction> decide(const LockFacts& f) {
  const std::string db = "[" + f.database + "]";
  if (iequals(f.user_access, "SINGLE_USER")) {
    return fail(ErrorKind::prerequisite,
                fmt::format("the source database {} is in SINGLE_USER mode: the cutover's sessions and DMS cannot "
                            "share it; nothing was changed",
                            db),
                fmt::format("ALTER DATABASE {} SET MULTI_USER (or RESTRICTED_USER), then run the cutover again", db));
  }
  if (!f.tool.qualified()) {
    return fail(ErrorKind::prerequisite,
                fmt::format("--lock-source would disconnect the cutover itself: the source login {} may not use {} "
                            "once it is RESTRICTED_USER; nothing was changed",
                            f.tool.describe(), db),
                "run the cutover with a source login that is sysadmin or db_owner of the database, or stop the "
                "application yourself and leave out --lock-source");
  }
  if (f.dms && !f.dms->qualified()) {
    return fail(ErrorKind::prerequisite,
                fmt::format("--lock-source would disconnect DMS: its source endpoint's user {} may not use {} once "
                            "it is RESTRICTED_USER, and the change stream would stop before the marker; nothing was "
                            "changed",
                            f.dms->describe(), db),
                fmt::format("make that login db_owner of {} (USE {}; ALTER ROLE db_owner ADD MEMBER [its user]; "
                            "docs/facts.md §3 lists what DMS needs), or leave out --lock-source",
                            db, db));
  }
  if (iequals(f.user_access, "RESTRICTED_USER")) return LockAction::already_locked;
  if (!iequals(f.user_access, "MULTI_USER")) {
    return fail(ErrorKind::prerequisite,
                fmt::format("the source database {} reports user access '{}'", db, f.user_access),
                "check sys.databases.user_access_desc on the source");
  }
  return LockAction::lock;
}

nlohmann::json to_json(const LockRecord& r) {
  nlohmann::json j{{"database", r.database},
                   {"previous_access", r.previous_access},
                   {"statement", r.statement},
                   {"login", r.login}};
  return j;
}

Expected<LockRecord> record_from_json(const nlohmann::json& v, const JsonSource& source) {
  if (!v.is_object()) {
    return fail(source.kind, source.what + ": the source lock's record should be an object", source.fix);
  }
  LockRecord r;
  r.database = M2R_TRY(string_field(v, "database", source));
  r.previous_access = M2R_TRY(string_field(v, "previous_access", source));
  r.statement = M2R_TRY(string_field_or(v, "statement", "", source));
  r.login = M2R_TRY(string_field_or(v, "login", "", source));
  return r;
}

Expected<std::optional<LockRecord>> current_lock(const std::vector<JournalEvent>& events) {
  const JsonSource source{"the journal's source_locked event", "restore the journal from a copy, or undo the lock by "
                          "hand (ALTER DATABASE [db] SET MULTI_USER)"};
  std::optional<LockRecord> lock;
  for (const auto& e : events) {
    if (e.kind == k_locked_event) {
      lock = M2R_TRY(record_from_json(e.data, source));
      lock->at = e.at;
    } else if (e.kind == k_unlocked_event) {
      lock.reset();
    }
  }
  return lock;
}

}  // namespace m2r::source_lock
