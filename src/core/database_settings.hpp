#pragma once
// The database's own settings, source against target. A native restore carries most of them
// with the database file, but not all as they were: TRUSTWORTHY is OFF on a restored database
// until someone with CONTROL SERVER (sysadmin) sets it again ("a database that is attached to
// an instance of SQL Server cannot be immediately trusted"), and on RDS nobody has CONTROL
// SERVER; DB_CHAINING needs sysadmin too; the owner becomes the login that restored it (the RDS
// master user). So `check` names the source's settings the restore will lose, and the cutover
// compares every setting below on both sides and says what to do about each difference.
// Pure: the queries, the model, the comparison.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/checks.hpp"

namespace m2r {

struct DatabaseSettings {
  std::string owner;  // SUSER_SNAME(owner_sid); "" when the owner's login is not on that server
  bool trustworthy = false;
  bool db_chaining = false;
  bool broker_enabled = false;
  int compatibility_level = 0;
  std::string collation;
  bool read_committed_snapshot = false;
  std::string snapshot_isolation;  // snapshot_isolation_state_desc: ON, OFF, ...
  // sys.database_scoped_configurations (SQL Server 2016+): name -> value as text. Empty when
  // the server has none to show.
  std::map<std::string, std::string> scoped_configurations;
};

namespace database_settings {
// sys.databases for the database named by the one parameter: owner, is_trustworthy_on,
// is_db_chaining_on, is_broker_enabled, compatibility_level, collation_name,
// is_read_committed_snapshot_on, snapshot_isolation_state_desc.
std::string settings_query();
// name, value of sys.database_scoped_configurations, in the session's database.
std::string scoped_configurations_query();
}  // namespace database_settings

struct SettingDifference {
  std::string setting;  // "TRUSTWORTHY", "MAXDOP (database scoped)"
  std::string source;
  std::string target;
  std::string fix;      // the statement, or why RDS cannot and what to do instead
  bool expected = false;  // a difference every restore on RDS makes (the owner): informational
};

// Every setting that differs; `database` is the target's name, quoted in the fixes.
std::vector<SettingDifference> compare_database_settings(const DatabaseSettings& source, const DatabaseSettings& target,
                                                         const std::string& database);

// `check`'s item database.settings: the source's settings a restore on RDS will not keep
// (TRUSTWORTHY, DB_CHAINING ON), WARN with what to do; PASS otherwise.
CheckResult evaluate_database_settings(const DatabaseSettings& source, const std::string& database);

}  // namespace m2r
