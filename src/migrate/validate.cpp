#include "migrate/validate.hpp"

namespace m2r {

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              const StopSignal* stop) {
  ValidationOptions options;
  options.stop = stop;
  return validate_migration(connections, config, options);
}

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              ValidationOptions options) {
  auto src = M2R_TRY(connections.source());
  auto tgt = M2R_TRY(connections.target(config.target.database));
  if (!options.clock) options.clock = connections.clock.get();
  return validate_databases(*src, *tgt, options);
}

}  // namespace m2r
