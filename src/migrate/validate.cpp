#include "migrate/validate.hpp"

#include "migrate/status.hpp"

namespace m2r {

ValidationOptions validation_options(const ValidateConfig& config) {
  ValidationOptions options;
  options.limits.chunk_rows = config.chunk_rows;
  options.limits.max_named = static_cast<std::size_t>(config.max_differences);
  options.lock_timeout = std::chrono::milliseconds(config.lock_timeout_ms);
  options.chunk_timeout = std::chrono::seconds(config.chunk_timeout_s);
  options.max_rows_per_second = config.max_rows_per_second;
  return options;
}

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              const StopSignal* stop) {
  ValidationOptions options = validation_options(config.validate);
  options.stop = stop;
  return validate_migration(connections, config, options);
}

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config,
                                              ValidationOptions options) {
  auto src = M2R_TRY(connections.source());
  auto tgt = M2R_TRY(connections.target(config.target.database));
  if (!options.clock) options.clock = connections.clock.get();
  auto report = M2R_TRY(validate_databases(*src, *tgt, options));
  // A differing table whose LOBs outgrew the task's LobMaxSize: say that DMS truncates them.
  M2R_TRY(note_lobs_over_limit(report, *src, config, options.stop));
  return report;
}

}  // namespace m2r
