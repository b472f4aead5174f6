#pragma once
// The source login's permissions (docs/facts.md §3, "Non-sysadmin source user"): what the
// product and DMS need on a self-managed source when the login is not sysadmin, judged from
// facts the login reads about itself, into the exact statement a DBA runs for each missing one.
// Pure: gathering is src/migrate/source_facts.cpp.
#include <optional>
#include <string>
#include <vector>

#include "core/checks.hpp"

namespace m2r {

// Each field as the login sees it (HAS_PERMS_BY_NAME, IS_ROLEMEMBER, USER_NAME() in master and
// msdb). nullopt: the server did not answer that question.
struct SourcePermissionFacts {
  bool known = false;      // the questions were asked and answered
  std::string error;       // why not
  std::string login;       // SUSER_SNAME()
  bool is_sysadmin = false;
  std::optional<bool> db_owner;           // IS_ROLEMEMBER('db_owner') in the source database
  std::string database_user;              // USER_NAME() there ("guest", or empty without access)
  std::optional<bool> view_server_state;  // HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')
  std::string master_user;                // USER_NAME() in master ("guest" when it has no user)
  std::string msdb_user;                  // USER_NAME() in msdb
  std::optional<bool> select_fn_dblog;    // HAS_PERMS_BY_NAME('sys.fn_dblog', 'OBJECT', 'SELECT')
  std::optional<bool> select_backupset, select_backupmediafamily, select_backupfile;  // msdb.dbo.*
};

// A permission the login lacks and the T-SQL that grants it (run by a sysadmin).
struct MissingGrant {
  std::string permission;  // "VIEW SERVER STATE"
  std::string statement;   // "USE master; GRANT VIEW SERVER STATE TO [m2r];"
};

// Every permission of docs/facts.md §3 the login lacks, in the order a DBA grants them; empty
// for a sysadmin. A question left unanswered counts as missing (the statement is harmless to run).
std::vector<MissingGrant> missing_source_grants(const SourcePermissionFacts& f, const std::string& database);

// The `source.permissions` check: PASS (sysadmin, or every permission held), FAIL naming each
// missing permission and its statement.
CheckResult evaluate_source_permissions(const SourcePermissionFacts& f, const std::string& database);

}  // namespace m2r
