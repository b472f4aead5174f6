#pragma once
// [upload] streaming = true: BACKUP writes the files while the upload step's sub-steps send
// them, on a thread of their own.
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "migrate/connections.hpp"
#include "migrate/step_runner.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// The backup step's outcome decides: a failed BACKUP stops the upload before any object is
// completed; a failed upload beside a good backup is left to the upload step, which resumes
// it from the journal. Returns the backup step's outputs.
Expected<nlohmann::json> run_backup_with_streaming_upload(StepContext& ctx, mssql::SqlSession& source,
                                                          Connections& connections, const MigrationConfig& config,
                                                          const std::string& new_stamp);

}  // namespace m2r
