#pragma once
// `mssql2rds run`: the journaled steps in order (backup, LSN capture, upload, restore,
// prepare target, replicate); a killed run resumes where it stopped.
#include <chrono>
#include <string>

#include "core/config.hpp"
#include "core/events.hpp"
#include "core/interrupt.hpp"
#include "core/journal.hpp"
#include "migrate/connections.hpp"

namespace m2r {

struct RunOptions {
  std::string stop_after;  // stop once this step is done (rehearsals, tests)
  // Do this step and every later one again (after a changed backup file or configuration):
  // their records are kept as events; a DMS task and a restored target database that the
  // redone steps created are removed first (src/migrate/redo.hpp).
  std::string redo_from;
  // Before the first change (and on a resume, before the remaining steps), the checks of
  // `check` those steps need; a failure refuses with check's message and changes nothing.
  bool preflight = true;
  std::chrono::milliseconds restore_poll{5000};
  std::chrono::seconds dms_timeout{600};
  // SIGINT / SIGTERM: the run stops at a safe point (uploads in flight cancelled, a running
  // BACKUP cancelled, waits on RDS and DMS ended; both keep running) with ErrorKind::interrupted.
  const StopSignal* stop = nullptr;
};

Expected<void> run_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                             EventSink& events, const RunOptions& options);

}  // namespace m2r
