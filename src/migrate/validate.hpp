#pragma once
// `mssql2rds validate`: every table compared, source against target, by row hashes per key
// range down to the differing keys (migrate/table_validation.hpp).
#include "core/config.hpp"
#include "core/interrupt.hpp"
#include "core/validation.hpp"
#include "migrate/connections.hpp"
#include "migrate/table_validation.hpp"

namespace m2r {

// The walk's options as `[validate]` in the configuration sets them.
ValidationOptions validation_options(const ValidateConfig& config);

// `stop` (SIGINT / SIGTERM) cancels the statement in flight: ErrorKind::interrupted naming the table.
Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              const StopSignal* stop = nullptr);

// With the walk's options (chunk size, limits, lock timeout, throttle, progress events); the
// throttle sleeps on `connections.clock` unless `options.clock` is set.
Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              ValidationOptions options);

}  // namespace m2r
