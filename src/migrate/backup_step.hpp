#pragma once
// The native full backup on the source, with progress from STATS (message 3211).
#include "core/config.hpp"
#include "core/plan.hpp"
#include "migrate/step_runner.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// Outputs: stamp, server_files, local_files, s3_keys, restore_arn. The stamp (and so the file
// names) is recorded before BACKUP starts; a resumed attempt reuses it, and skips BACKUP when
// msdb already records a finished backup to those files.
Expected<nlohmann::json> run_backup_step(StepContext& ctx, mssql::SqlSession& source, const MigrationConfig& config,
                                         const std::string& new_stamp);

// "37 percent processed." -> 0.37 (message 3211, facts.md §10).
std::optional<double> backup_progress(const mssql::SqlMessage& message);

}  // namespace m2r
