#pragma once
// `mssql2rds check`: every prerequisite of the migration, read from the source, RDS, S3 and
// DMS, each failure with its fix. Nothing changes, unless `fix_source` (the user's consent
// to create the publication / MS-CDC the check found missing).
#include <string>
#include <vector>

#include "core/checks.hpp"
#include "core/config.hpp"
#include "core/events.hpp"
#include "migrate/connections.hpp"

namespace m2r {

struct CheckOptions {
  bool fix_source = false;
  bool test_connections = true;
};

Expected<std::vector<CheckResult>> check_migration(const MigrationConfig& config, Connections& connections,
                                                   const CheckOptions& options, EventSink& events);

// The SQL Server Agent jobs of the source that touch the migrated database, as a T-SQL script
// that recreates them on RDS (core/server_objects script_agent_jobs); `check --script-jobs`.
Expected<std::string> agent_jobs_script(const MigrationConfig& config, Connections& connections);

// What the steps a run still has to do need (`run`'s preflight): the source for the backup, the
// LSN and the DMS task; S3 for the upload and the restore; the RDS instance for the restore and
// preparing the target; the target name free only while no restore has started; DMS for the task.
struct PreflightScope {
  bool source = true;
  bool s3 = true;
  bool rds = true;
  bool target_name_free = true;
  bool dms = true;
};

// `run`'s preflight: the checks of `check` that take seconds (DMS TestConnection excepted),
// limited to `scope`. Any FAIL refuses (ErrorKind::prerequisite) before anything changes, with
// each failure's detail and fix as `check` words them.
Expected<void> preflight_run(const MigrationConfig& config, Connections& connections, const PreflightScope& scope,
                             EventSink& events);

}  // namespace m2r
