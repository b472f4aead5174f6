#pragma once
// `mssql2rds cutover`, after the application stopped writing: drain the CDC lag (proven by the
// cutover marker: core/cutover_marker.hpp), stop the
// DMS task, validate, turn triggers and constraints back on, reseed identities, compare the
// schema beyond rows and report the real downtime.
#include <chrono>

#include "core/config.hpp"
#include "core/database_settings.hpp"
#include "core/events.hpp"
#include "core/interrupt.hpp"
#include "core/journal.hpp"
#include "core/validation.hpp"
#include "migrate/connections.hpp"
#include "migrate/schema_comparison.hpp"

namespace m2r {

struct CutoverOptions {
  std::chrono::seconds drain_timeout{600};
  double max_latency_s = 5;  // "drained" when both CDC latencies are at most this
  bool force = false;        // proceed although validation fails
  // The source set to RESTRICTED_USER WITH ROLLBACK IMMEDIATE before the marker (the user
  // consented): a writer still connected is ended (migrate/source_lock.hpp).
  bool lock_source = false;
  std::chrono::system_clock::time_point writes_stopped_at;  // when the user confirmed the app stopped
  // SIGINT / SIGTERM: the drain and the waits on DMS stop (the task keeps its state) with
  // ErrorKind::interrupted, and a new `cutover` continues. Once the task is stopped, the rest
  // (validation, triggers and constraints back on) is short and runs to its end.
  const StopSignal* stop = nullptr;
};

struct CutoverReport {
  ValidationReport validation;
  SchemaComparison schema;  // views, procedures, functions, triggers, foreign keys: present and enabled
  std::vector<SettingDifference> settings;  // the database's settings that differ (core/database_settings)
  double downtime_s = 0;  // from when the writes stopped to the target ready; its parts below
  double lock_s = 0;      // the source set to RESTRICTED_USER (--lock-source)
  double drain_s = 0;     // until the marker arrived (or the statistics said drained)
  double stop_s = 0;      // the DMS task stopping
  double validation_s = 0;
  double reenable_s = 0;  // triggers and constraints back on, identities reseeded
  bool drain_proven_by_marker = false;
  bool source_locked = false;  // the source is RESTRICTED_USER (this attempt or an earlier one)
};

Expected<CutoverReport> cutover_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                                          EventSink& events, const CutoverOptions& options);

}  // namespace m2r
