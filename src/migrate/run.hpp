#pragma once
// `mssql2rds run`: the journaled steps in order (backup, LSN capture, upload, restore,
// prepare target, replicate); a killed run resumes where it stopped.
#include <chrono>
#include <string>

#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "migrate/connections.hpp"

namespace m2r {

struct RunOptions {
  std::string stop_after;  // stop once this step is done (rehearsals, tests)
  std::chrono::milliseconds restore_poll{5000};
  std::chrono::seconds dms_timeout{600};
};

Expected<void> run_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                             EventSink& events, const RunOptions& options);

}  // namespace m2r
