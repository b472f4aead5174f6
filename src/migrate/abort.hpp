#pragma once
// `mssql2rds abort`: instead of a cutover, remove what the migration created: the DMS task
// (stopped first), the unfinished multipart uploads, and with `drop_target_database` the
// restored database on RDS. An aborted journal refuses to resume.
#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "migrate/connections.hpp"

namespace m2r {

struct AbortOptions {
  bool drop_target_database = false;
};

Expected<void> abort_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                               EventSink& events, const AbortOptions& options);

}  // namespace m2r
