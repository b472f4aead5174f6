#pragma once
// `mssql2rds check`: every prerequisite of the migration, read from the source, RDS, S3 and
// DMS, each failure with its fix. Nothing changes, unless `fix_source` (the user's consent
// to create the publication / MS-CDC the check found missing).
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

}  // namespace m2r
