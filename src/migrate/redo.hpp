#pragma once
// `run --redo-from STEP`: before the steps from STEP on run again, remove what they made that
// would stand in the way of doing them again: the DMS task (stopped, then deleted), the
// database the restore created on RDS (rds_drop_database), the multipart uploads that were
// never completed. Each removal is an event in the journal; what was never made is skipped.
#include <string>

#include "aws/dms_client.hpp"
#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "migrate/connections.hpp"

namespace m2r {

Expected<void> undo_for_redo(const MigrationConfig& config, Connections& connections, Journal& journal,
                             EventSink& events, const std::string& redo_from);

// Stops (when running) and deletes the task; Ok(false) when DMS no longer knows it.
Expected<bool> delete_replication_task_if_present(aws::DmsClient& dms, const std::string& task_arn,
                                                  aws::Clock& clock);

}  // namespace m2r
