#include "core/tsql.hpp"

#include <fmt/format.h>

namespace m2r::tsql {

namespace {
// Names come from the catalog or the config and were quoted by quote_name on the way in;
// a name too long for QUOTENAME cannot exist in SQL Server, so this cannot fail for them.
std::string q(std::string_view name) {
  if (auto quoted = quote_name(name)) return std::move(*quoted);
  std::string fallback;
  fallback.reserve(name.size() + 2);
  fallback.append(1, '[').append(name).append(1, ']');
  return fallback;
}
}  // namespace

Expected<std::string> quote_name(std::string_view name) {
  if (name.size() > 128) {
    return fail(ErrorKind::invalid_input, fmt::format("the name '{}...' is longer than 128 characters", name.substr(0, 20)),
                "SQL Server identifiers are at most 128 characters");
  }
  std::string out = "[";
  for (char c : name) {
    out += c;
    if (c == ']') out += ']';
  }
  return out + "]";
}

std::string quote_literal(std::string_view text) {
  std::string out = "N'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string TableName::qualified() const { return q(schema) + "." + q(name); }
std::string TableName::display() const { return schema + "." + name; }

std::string backup_database(const BackupOptions& o) {
  std::string disks;
  for (const auto& f : o.files) disks += (disks.empty() ? "" : ", ") + fmt::format("DISK = {}", quote_literal(f));
  // CHECKSUM: RDS restore verifies it. No COPY_ONLY: the differential base record is part
  // of the start-point cross-check (docs/facts.md §2, §8). FORMAT, INIT: a re-run overwrites a
  // half-written file instead of appending a second backup set to it.
  return fmt::format("BACKUP DATABASE {} TO {} WITH CHECKSUM,{} FORMAT, INIT, STATS = {}", q(o.database), disks,
                     o.compression ? " COMPRESSION," : "", o.stats_percent);
}

std::string backupset_for_file(const std::string& database, const std::string& first_file) {
  return fmt::format(
      "SELECT TOP 1 b.backup_set_id, b.first_lsn, b.last_lsn, b.checkpoint_lsn, b.database_backup_lsn, "
      "b.is_copy_only, b.backup_start_date, b.backup_finish_date "
      "FROM msdb.dbo.backupset AS b JOIN msdb.dbo.backupmediafamily AS m ON m.media_set_id = b.media_set_id "
      "WHERE b.database_name = {} AND b.type = 'D' AND m.physical_device_name = {} "
      "ORDER BY b.backup_set_id DESC",
      quote_literal(database), quote_literal(first_file));
}

std::string request_progress() {
  return "SELECT percent_complete, estimated_completion_time, total_elapsed_time, command "
         "FROM sys.dm_exec_requests WHERE session_id = ?";
}

std::string own_session_id() { return "SELECT @@SPID AS session_id"; }

std::string fn_dblog_transactions(const std::string& from_hex_lsn) {
  // Only what the decision needs (docs/facts.md §11). The filter on Operation keeps it small.
  return fmt::format(
      "SELECT [Current LSN], [Operation], [Transaction ID], [Transaction Name], [AllocUnitName] "
      "FROM fn_dblog(NULL, NULL) WHERE [Current LSN] >= {} AND [Operation] IN "
      "(N'LOP_BEGIN_XACT', N'LOP_COMMIT_XACT', N'LOP_ABORT_XACT', N'LOP_INSERT_ROWS', N'LOP_MODIFY_ROW', "
      "N'LOP_DELETE_ROWS') ORDER BY [Current LSN]",
      quote_literal(from_hex_lsn));
}

std::string rds_restore_database(const std::string& db, const std::string& s3_arn) {
  return fmt::format("exec msdb.dbo.rds_restore_database @restore_db_name = {}, @s3_arn_to_restore_from = {}",
                     quote_literal(db), quote_literal(s3_arn));
}

std::string rds_task_status(long long task_id) {
  return fmt::format("exec msdb.dbo.rds_task_status @task_id = {}", task_id);
}

std::string list_user_tables() {
  return "SELECT s.name AS schema_name, t.name AS table_name, t.object_id, "
         "CASE WHEN EXISTS (SELECT 1 FROM sys.key_constraints AS k WHERE k.parent_object_id = t.object_id "
         "AND k.type = 'PK') THEN 1 ELSE 0 END AS has_pk, "
         "CASE WHEN EXISTS (SELECT 1 FROM sys.columns AS c WHERE c.object_id = t.object_id AND c.is_identity = 1) "
         "THEN 1 ELSE 0 END AS has_identity "
         "FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id "
         "WHERE t.is_ms_shipped = 0 ORDER BY s.name, t.name";
}

std::string list_enabled_triggers() {
  return "SELECT s.name AS schema_name, t.name AS table_name, tr.name AS trigger_name "
         "FROM sys.triggers AS tr JOIN sys.tables AS t ON t.object_id = tr.parent_id "
         "JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE tr.is_disabled = 0 ORDER BY s.name, t.name, tr.name";
}

std::string list_enabled_foreign_keys() {
  return "SELECT s.name AS schema_name, t.name AS table_name, fk.name AS fk_name "
         "FROM sys.foreign_keys AS fk JOIN sys.tables AS t ON t.object_id = fk.parent_object_id "
         "JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE fk.is_disabled = 0 ORDER BY s.name, t.name, fk.name";
}

std::string list_database_users() {
  return "SELECT name, type, sid, authentication_type_desc FROM sys.database_principals "
         "WHERE type IN ('S', 'U', 'G') ORDER BY name";
}

std::string list_server_logins() {
  return "SELECT sp.name, sp.type, sp.sid, sp.is_disabled, sp.default_database_name, sp.default_language_name, "
         "sl.password_hash, sl.is_policy_checked, sl.is_expiration_checked FROM sys.server_principals AS sp "
         "LEFT JOIN sys.sql_logins AS sl ON sl.principal_id = sp.principal_id "
         "WHERE sp.type IN ('S', 'U', 'G') ORDER BY sp.name";
}

std::string list_server_role_members() {
  return "SELECT r.name AS role_name, m.name AS member_name FROM sys.server_role_members AS rm "
         "JOIN sys.server_principals AS r ON r.principal_id = rm.role_principal_id "
         "JOIN sys.server_principals AS m ON m.principal_id = rm.member_principal_id ORDER BY r.name, m.name";
}

std::string own_server_roles() {
  return "SELECT r.name AS role_name FROM sys.server_role_members AS rm "
         "JOIN sys.server_principals AS r ON r.principal_id = rm.role_principal_id "
         "JOIN sys.server_principals AS m ON m.principal_id = rm.member_principal_id WHERE m.name = SUSER_SNAME()";
}

std::string database_state(const std::string& db) {
  return fmt::format(
      "SELECT name, database_id, state_desc, recovery_model_desc, is_cdc_enabled, is_published, "
      "log_reuse_wait_desc, compatibility_level, is_encrypted FROM sys.databases WHERE name = {}",
      quote_literal(db));
}

std::string disable_trigger(const TableName& t, const std::string& trigger) {
  return fmt::format("ALTER TABLE {} DISABLE TRIGGER {}", t.qualified(), q(trigger));
}
std::string enable_trigger(const TableName& t, const std::string& trigger) {
  return fmt::format("ALTER TABLE {} ENABLE TRIGGER {}", t.qualified(), q(trigger));
}
std::string nocheck_constraint(const TableName& t, const std::string& fk) {
  return fmt::format("ALTER TABLE {} NOCHECK CONSTRAINT {}", t.qualified(), q(fk));
}
std::string check_constraint(const TableName& t, const std::string& fk) {
  // WITH CHECK: existing rows are verified, so the constraint is trusted again (docs/facts.md §3).
  return fmt::format("ALTER TABLE {} WITH CHECK CHECK CONSTRAINT {}", t.qualified(), q(fk));
}
std::string reseed_identity(const TableName& t) {
  // RESEED without a value moves the seed up to the column's maximum when it is below it.
  return fmt::format("DBCC CHECKIDENT ({}, RESEED)", quote_literal(t.qualified()));
}
}  // namespace m2r::tsql
