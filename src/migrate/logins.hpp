#pragma once
// `mssql2rds logins`: the server logins the database's users need, carried to RDS after the
// restore (docs/facts.md §15; the plan in core/login_transfer). Reads the source's users, its
// logins and their role memberships, and the target's logins and what its master user may
// grant; with `apply`, runs the plan on RDS, then lists the users still orphaned there (the
// documented query). Each login carried is an event in the journal: names only, never a hash.
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "core/login_transfer.hpp"
#include "migrate/connections.hpp"

namespace m2r {

struct LoginTransferOptions {
  bool apply = false;  // false: read and plan only
};

struct LoginTransferReport {
  LoginPlan plan;
  std::vector<std::string> applied;         // shown_sql of each statement that ran
  std::vector<std::string> orphaned_users;  // on the target after applying (or now, without apply)
  bool target_database_present = false;     // the restore has happened
};

// Reads both sides and plans. The source login must be able to read sys.sql_logins.password_hash
// (CONTROL SERVER) for SQL logins to be carried; without it the plan names the fix.
Expected<LoginTransferInput> read_login_facts(const MigrationConfig& config, Connections& connections);

Expected<LoginTransferReport> transfer_logins(const MigrationConfig& config, Connections& connections, Journal* journal,
                                              EventSink& events, const LoginTransferOptions& options);

}  // namespace m2r
