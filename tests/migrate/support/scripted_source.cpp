#include "migrate/support/scripted_source.hpp"

namespace m2r::test {

using mssql::SqlValue;

void script_database_state(mssql::FakeSqlSession& s, const SourceShape& shape) {
  s.on_rows("state_desc, recovery_model_desc",
            {"name", "database_id", "state_desc", "recovery_model_desc", "is_cdc_enabled", "is_published",
             "log_reuse_wait_desc", "compatibility_level", "is_encrypted"},
            {{"Sales", 5, "ONLINE", shape.recovery, shape.cdc ? 1 : 0, shape.published ? 1 : 0, "NOTHING", 150, 0}});
}

void script_table_flags(mssql::FakeSqlSession& s, const SourceShape& shape) {
  std::vector<mssql::SqlRow> tables{{"dbo", "Orders", shape.published ? 1 : 0, 0, 0},
                                    {"dbo", "AuditLog", 0, shape.cdc ? 1 : 0, 0}};
  if (shape.marker) tables.push_back({"dbo", "mssql2rds_cutover_marker", shape.published ? 1 : 0, 0, 0});
  s.on_rows("t.is_tracked_by_cdc",
            {"schema_name", "table_name", "is_published", "is_tracked_by_cdc", "is_memory_optimized"},
            tables);
}

void script_distributor(mssql::FakeSqlSession& s, DistributorShape shape) {
  const std::vector<std::string> columns{"installed", "distribution server", "distribution db installed",
                                         "is distribution publisher", "has remote distribution publisher"};
  switch (shape) {
    case DistributorShape::local: s.on_rows("sp_get_distributor", columns, {{1, "SRC1", 1, 1, 0}}); break;
    case DistributorShape::none: s.on_rows("sp_get_distributor", columns, {{0, SqlValue(), 0, 0, 0}}); break;
    case DistributorShape::remote: s.on_rows("sp_get_distributor", columns, {{1, "REMOTE-DIST", 0, 0, 0}}); break;
  }
}

// A source as the check reads it: SQL Server 2019, sysadmin, two tables (dbo.Orders with a
// primary key, dbo.AuditLog without one), and the cutover marker's table unless shape.marker
// says it was never made.
void script_source(mssql::FakeSqlSession& s, const SourceShape& shape) {
  s.on_rows("ProductVersion", {"v"}, {{"15.0.4345.5"}});
  script_database_state(s, shape);
  s.on_rows("is_accelerated_database_recovery_on", {"is_accelerated_database_recovery_on", "delayed_durability_desc"},
            {{0, "DISABLED"}});
  // source.permissions (docs/facts.md §3): before the IS_SRVROLEMEMBER rule, which its query also
  // matches; a login that is not sysadmin holds every right, through users of its own.
  s.on_rows("HAS_PERMS_BY_NAME", {"login", "is_sysadmin", "db_owner", "db_user", "view_server_state", "fn_dblog",
                                  "backupset", "backupmediafamily", "backupfile"},
            {{shape.sysadmin ? "sa" : "m2r", shape.sysadmin ? 1 : 0, 1, shape.sysadmin ? "dbo" : "m2r", 1, 1, 1, 1, 1}});
  s.on_rows("SELECT USER_NAME() AS u", {"u"}, {{"m2r"}});
  s.on_rows("IS_SRVROLEMEMBER", {"s"}, {{shape.sysadmin ? 1 : 0}});
  // check's backup directory probe: SQL Server sees the file written in backup_dir_local.
  s.on_rows("xp_fileexist", {"File Exists", "File is a Directory", "Parent Directory Exists"}, {{1, 0, 1}});
  s.on_rows("@@SERVERNAME", {"name"}, {{"SRC1"}});
  script_distributor(s, shape.distributor);
  s.on_rows("fn_dblog", {"Current LSN"}, {{"00000025:00000b8f:0004"}});
  s.on_rows("msdb.dbo.backupset", {"backup_set_id"}, {});
  s.on_rows("sys.master_files", {"kb"}, {{SqlValue(std::int64_t{1024 * 1024})}});
  s.on_rows("SELECT DB_ID(", {"id"}, {{5}});
  script_table_flags(s, shape);
  std::vector<mssql::SqlRow> keys{{"dbo", "Orders", 101, 1, 1}, {"dbo", "AuditLog", 102, 0, 0}};
  if (shape.marker) keys.push_back({"dbo", "mssql2rds_cutover_marker", 103, 1, 0});
  s.on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"}, keys);
}

}  // namespace m2r::test
