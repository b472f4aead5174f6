#pragma once
// `mssql2rds validate`: every table compared, source against target, by row hashes per key
// range down to the differing keys (migrate/table_validation.hpp).
#include "core/config.hpp"
#include "core/interrupt.hpp"
#include "core/journal.hpp"
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

// The same, each table's result journaled (migrate/validation_history) with the source's log
// position read before the comparison began, so that cutover compares again only what the
// log shows changed since. Without the permission to read fn_dblog the results are journaled
// with no position and never reused.
Expected<ValidationReport> validate_and_record(Connections& connections, const MigrationConfig& config,
                                               ValidationOptions options, Journal& journal);

// Cutover's validation: tables equal at their last journaled validation and unchanged since
// by the source's log are reported with when they were compared; the rest are compared now.
Expected<ValidationReport> revalidate_changed(Connections& connections, const MigrationConfig& config,
                                              ValidationOptions options, Journal& journal, EventSink& events);

}  // namespace m2r
