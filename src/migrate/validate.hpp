#pragma once
// `mssql2rds validate`: row counts and checksums of every table, source against target.
#include "core/config.hpp"
#include "core/validation.hpp"
#include "migrate/connections.hpp"

namespace m2r {

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config);

}  // namespace m2r
