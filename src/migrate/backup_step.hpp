#pragma once
// The native full backup on the source, with live progress: a second session polls
// sys.dm_exec_requests while BACKUP runs, and the STATS messages (3211) count as well
// (mssql/request_progress.hpp).
#include "core/config.hpp"
#include "core/plan.hpp"
#include "migrate/step_runner.hpp"
#include "mssql/request_progress.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// Outputs: stamp, server_files, local_files, s3_keys, restore_arn. The stamp (and so the file
// names) is recorded before BACKUP starts; a resumed attempt reuses it, and skips BACKUP when
// msdb already records a finished backup to those files.
// `open_monitor` opens a second session to the source for the progress polls (empty: the
// messages only); a problem there is a warning, never the step's failure.
Expected<nlohmann::json> run_backup_step(StepContext& ctx, mssql::SqlSession& source, const MigrationConfig& config,
                                         const std::string& new_stamp, const mssql::SessionOpener& open_monitor = {},
                                         const mssql::LiveProgressOptions& progress_options = {});

}  // namespace m2r
