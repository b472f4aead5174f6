#pragma once
// `mssql2rds validate`: row counts and checksums of every table, source against target.
#include "core/config.hpp"
#include "core/interrupt.hpp"
#include "core/validation.hpp"
#include "migrate/connections.hpp"

namespace m2r {

// `stop` (SIGINT / SIGTERM) ends it between tables or cancels the table's query: ErrorKind::interrupted.
Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              const StopSignal* stop = nullptr);

}  // namespace m2r
