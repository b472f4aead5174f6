#pragma once
// Every T-SQL statement mssql2rds sends, generated in one place so that `plan` prints
// exactly what `run` executes. Identifiers are quoted as QUOTENAME does; literals as N'...'.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace m2r::tsql {

// QUOTENAME(name): [name] with ']' doubled; SQL Server refuses names over 128 characters.
Expected<std::string> quote_name(std::string_view name);
// N'text' with quotes doubled.
std::string quote_literal(std::string_view text);

struct TableName {
  std::string schema;
  std::string name;
  std::string qualified() const;  // [schema].[name]
  std::string display() const;    // schema.name
  auto operator<=>(const TableName&) const = default;
};

struct BackupOptions {
  std::string database;
  std::vector<std::string> files;  // as SQL Server sees them; more than one = a stripe set
  bool compression = true;
  int stats_percent = 5;
};
std::string backup_database(const BackupOptions& options);

// The backupset row of the newest full backup written to `first_file` (docs/facts.md §1: numeric LSNs).
std::string backupset_for_file(const std::string& database, const std::string& first_file);
// The running request of one session (parameter 1: its @@SPID), as DBAs follow a BACKUP or
// RESTORE from a second session with any driver: percent_complete (real, 0..100),
// estimated_completion_time and total_elapsed_time (ms), command. Needs VIEW SERVER STATE to
// see another session's row.
std::string request_progress();
// The session's own id (@@SPID), for a second session to watch it.
std::string own_session_id();
// fn_dblog rows the start point needs (docs/facts.md §2, §11), from a given LSN on (hex form).
std::string fn_dblog_transactions(const std::string& from_hex_lsn);

std::string rds_restore_database(const std::string& db, const std::string& s3_arn);
std::string rds_task_status(long long task_id);

// Catalog reads.
std::string list_user_tables();     // schema_name, table_name, object_id, has_pk, has_identity
std::string list_enabled_triggers();  // schema_name, table_name, trigger_name
std::string list_enabled_foreign_keys();  // schema_name, table_name, fk_name
std::string database_state(const std::string& db);  // sys.databases row
// Principals (docs/facts.md §15). The database's users: name, type, sid, authentication_type_desc.
std::string list_database_users();
// The server's logins: name, type, sid, is_disabled, default_database_name, default_language_name,
// password_hash (NULL without CONTROL SERVER), is_policy_checked, is_expiration_checked.
std::string list_server_logins();
// Fixed server role memberships: role_name, member_name.
std::string list_server_role_members();
// The fixed server roles the session's own login is a member of: role_name.
std::string own_server_roles();

std::string disable_trigger(const TableName& table, const std::string& trigger);
std::string enable_trigger(const TableName& table, const std::string& trigger);
std::string nocheck_constraint(const TableName& table, const std::string& fk);
std::string check_constraint(const TableName& table, const std::string& fk);  // WITH CHECK CHECK
std::string reseed_identity(const TableName& table);

}  // namespace m2r::tsql
