#include "core/database_settings.hpp"

#include <fmt/format.h>

namespace m2r {

namespace database_settings {

std::string settings_query() {
  return "SELECT SUSER_SNAME(owner_sid) AS owner, is_trustworthy_on, is_db_chaining_on, is_broker_enabled, "
         "compatibility_level, collation_name, is_read_committed_snapshot_on, snapshot_isolation_state_desc "
         "FROM sys.databases WHERE name = ?";
}

std::string scoped_configurations_query() {
  return "SELECT name, CAST(value AS nvarchar(4000)) AS value FROM sys.database_scoped_configurations ORDER BY name";
}

}  // namespace database_settings

namespace {

const char* on_off(bool v) { return v ? "ON" : "OFF"; }

// Why RDS cannot set a setting that needs CONTROL SERVER, and what to do instead.
constexpr const char* k_no_control_server =
    "needs CONTROL SERVER (sysadmin), which RDS gives nobody: the RDS master user cannot set it";

}  // namespace

std::vector<SettingDifference> compare_database_settings(const DatabaseSettings& s, const DatabaseSettings& t,
                                                         const std::string& database) {
  const std::string db = "[" + database + "]";
  std::vector<SettingDifference> out;
  if (s.trustworthy != t.trustworthy) {
    out.push_back({"TRUSTWORTHY", on_off(s.trustworthy), on_off(t.trustworthy),
                   fmt::format("the restore sets it OFF and ALTER DATABASE {} SET TRUSTWORTHY ON {}; sign the "
                               "modules that reach outside the database with a certificate instead",
                               db, k_no_control_server)});
  }
  if (s.db_chaining != t.db_chaining) {
    out.push_back({"DB_CHAINING", on_off(s.db_chaining), on_off(t.db_chaining),
                   fmt::format("ALTER DATABASE {} SET DB_CHAINING {} {}; grant the cross-database permissions "
                               "explicitly instead",
                               db, on_off(s.db_chaining), k_no_control_server)});
  }
  if (s.broker_enabled != t.broker_enabled) {
    out.push_back({"Service Broker", s.broker_enabled ? "enabled" : "disabled", t.broker_enabled ? "enabled" : "disabled",
                   fmt::format("ALTER DATABASE {} SET {} WITH ROLLBACK IMMEDIATE", db,
                               s.broker_enabled ? "ENABLE_BROKER" : "DISABLE_BROKER")});
  }
  if (s.compatibility_level != t.compatibility_level) {
    out.push_back({"compatibility level", std::to_string(s.compatibility_level), std::to_string(t.compatibility_level),
                   fmt::format("ALTER DATABASE {} SET COMPATIBILITY_LEVEL = {}", db, s.compatibility_level)});
  }
  if (s.collation != t.collation) {
    out.push_back({"collation", s.collation, t.collation,
                   "a database's collation comes with its restore; a difference means another database: check the "
                   "target"});
  }
  if (s.read_committed_snapshot != t.read_committed_snapshot) {
    out.push_back({"READ_COMMITTED_SNAPSHOT", on_off(s.read_committed_snapshot), on_off(t.read_committed_snapshot),
                   fmt::format("ALTER DATABASE {} SET READ_COMMITTED_SNAPSHOT {} WITH ROLLBACK IMMEDIATE", db,
                               on_off(s.read_committed_snapshot))});
  }
  if (s.snapshot_isolation != t.snapshot_isolation) {
    out.push_back({"ALLOW_SNAPSHOT_ISOLATION", s.snapshot_isolation, t.snapshot_isolation,
                   fmt::format("ALTER DATABASE {} SET ALLOW_SNAPSHOT_ISOLATION {}", db,
                               s.snapshot_isolation == "ON" ? "ON" : "OFF")});
  }
  for (const auto& [name, value] : s.scoped_configurations) {
    const auto other = t.scoped_configurations.find(name);
    if (other == t.scoped_configurations.end()) {
      if (!t.scoped_configurations.empty()) {
        out.push_back({name + " (database scoped)", value, "(not on the target)",
                       "the target's SQL Server version does not have this setting"});
      }
      continue;
    }
    if (other->second != value) {
      out.push_back({name + " (database scoped)", value, other->second,
                     fmt::format("USE {}; ALTER DATABASE SCOPED CONFIGURATION SET {} = {}", db, name, value)});
    }
  }
  if (s.owner != t.owner) {
    out.push_back({"owner", s.owner.empty() ? "(a login not on the source)" : s.owner,
                   t.owner.empty() ? "(a login not on RDS)" : t.owner,
                   fmt::format("a restored database is owned by the login that restored it; if the application "
                               "relies on the owner (EXECUTE AS OWNER, dbo's login): ALTER AUTHORIZATION ON "
                               "DATABASE::{} TO [{}]",
                               db, s.owner),
                   true});
  }
  return out;
}

CheckResult evaluate_database_settings(const DatabaseSettings& s, const std::string& database) {
  CheckResult r{"database.settings", "the database's settings survive a restore on RDS", CheckStatus::pass, "", ""};
  std::vector<std::string> lost, fixes;
  if (s.trustworthy) {
    lost.push_back("TRUSTWORTHY ON");
    fixes.push_back("sign the modules that need TRUSTWORTHY with a certificate (a restored database is not trusted, "
                    "and setting TRUSTWORTHY needs CONTROL SERVER, which RDS gives nobody)");
  }
  if (s.db_chaining) {
    lost.push_back("DB_CHAINING ON");
    fixes.push_back("grant the cross-database permissions the ownership chain gave (DB_CHAINING needs sysadmin, "
                    "which RDS does not give)");
  }
  if (lost.empty()) {
    r.detail = fmt::format("[{}]: TRUSTWORTHY and DB_CHAINING are OFF; the cutover compares every setting on both "
                           "sides",
                           database);
    return r;
  }
  r.status = CheckStatus::warn;
  std::string joined, fix;
  for (const auto& l : lost) joined += (joined.empty() ? "" : ", ") + l;
  for (const auto& f : fixes) fix += (fix.empty() ? "" : "; ") + f;
  r.detail = fmt::format("[{}] has {}: the restore on RDS leaves it OFF and it cannot be set again there", database, joined);
  r.fix = fix;
  return r;
}

}  // namespace m2r
