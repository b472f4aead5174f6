#include "migrate/validate.hpp"

#include "migrate/table_validation.hpp"

namespace m2r {

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              const StopSignal* stop) {
  auto src = M2R_TRY(connections.source());
  auto tgt = M2R_TRY(connections.target(config.target.database));
  return validate_databases(*src, *tgt, stop);
}

}  // namespace m2r
