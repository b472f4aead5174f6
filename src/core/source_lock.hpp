#pragma once
// `cutover --lock-source`: once the application is said to have stopped, the source database
// is set to RESTRICTED_USER WITH ROLLBACK IMMEDIATE, so a writer that was missed is
// disconnected (its open transaction rolled back, never replicated) and cannot come back
// while the cutover drains. Only members of db_owner, dbcreator and sysadmin may still connect:
// the tool itself (it writes the cutover marker) and DMS (its source user is sysadmin or
// db_owner, docs/facts.md §3).
//
// Why not READ_ONLY: the cutover marker must still be written on the source, and Microsoft's
// replication documentation says a database should not be read-only if replication is to
// function (no replication objects can change in it).
//
// Pure: the statements, the facts the decision needs, the decision, and the journal's record
// of the lock (journal events, so `unlock-source` can undo it whatever state the cutover is in).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/json_fields.hpp"

namespace m2r::source_lock {

// The journal's event kinds (step "cutover"): the lock and its undoing.
inline constexpr const char* k_locked_event = "source_locked";
inline constexpr const char* k_unlocked_event = "source_unlocked";

// user_access_desc of the database named by the one parameter (MULTI_USER, SINGLE_USER,
// RESTRICTED_USER); no row when it does not exist.
std::string user_access_query();
// For the login named by the one parameter, in the session's current database: sysadmin,
// dbcreator (IS_SRVROLEMEMBER) and db_owner (its user is dbo or a member of db_owner).
// NULL sysadmin: no such login on the server.
std::string qualification_query();
// ALTER DATABASE [db] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE
Expected<std::string> lock_statement(const std::string& database);
// ALTER DATABASE [db] SET <access> (MULTI_USER or RESTRICTED_USER: what it was before)
Expected<std::string> restore_statement(const std::string& database, const std::string& access);

// Who RESTRICTED_USER lets in.
struct Qualification {
  std::string login;
  bool exists = true;  // false: the login is not on the source server
  bool sysadmin = false;
  bool dbcreator = false;
  bool db_owner = false;
  bool qualified() const { return exists && (sysadmin || dbcreator || db_owner); }
  std::string describe() const;  // "sa (sysadmin)", "dms_user (no sysadmin, dbcreator or db_owner)"
};

struct LockFacts {
  std::string database;
  std::string user_access;           // as sys.databases shows it now
  Qualification tool;                // the login the cutover runs as on the source
  std::optional<Qualification> dms;  // the DMS source endpoint's user; nullopt: the endpoint names none
};

enum class LockAction {
  lock,            // run lock_statement
  already_locked,  // RESTRICTED_USER already (an earlier attempt, or the DBA): nothing to run
};

// What to do, or why the lock would break the cutover (nothing is changed then).
Expected<LockAction> decide(const LockFacts& facts);

// The journal's record: enough to undo the lock exactly and to report it.
struct LockRecord {
  std::string database;
  std::string previous_access;  // what unlock-source sets back
  std::string statement;        // what was run ("" when it was already RESTRICTED_USER)
  std::string login;            // who locked
  TimePoint at{};               // the event's time (current_lock fills it)
};
nlohmann::json to_json(const LockRecord& record);  // a k_locked_event's data
Expected<LockRecord> record_from_json(const nlohmann::json& value, const JsonSource& source);

// The lock still in force: the last k_locked_event not followed by a k_unlocked_event.
Expected<std::optional<LockRecord>> current_lock(const std::vector<JournalEvent>& events);

}  // namespace m2r::source_lock
