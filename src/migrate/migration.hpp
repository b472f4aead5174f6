#pragma once
// One migration: the config, the connections it needs, and the lifecycle commands, each a
// composition of the steps. The CLI calls exactly one of these per command.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/aws_context.hpp"
#include "core/checks.hpp"
#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "core/validation.hpp"
#include "migrate/schema_comparison.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// How the migration reaches its servers. The default opens ODBC sessions and resolves AWS
// from the environment; tests may substitute any of them.
struct Connections {
  std::function<Expected<std::unique_ptr<mssql::SqlSession>>()> source;         // the source database
  std::function<Expected<std::unique_ptr<mssql::SqlSession>>(const std::string& database)> target;  // on RDS
  std::optional<aws::AwsContext> aws;
};

Expected<Connections> default_connections(const MigrationConfig& config);

struct RunOptions {
  std::string stop_after;  // stop once this step is done (rehearsals, tests)
  std::chrono::milliseconds restore_poll{5000};
  std::chrono::seconds dms_timeout{600};
};

Expected<void> run_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                             EventSink& events, const RunOptions& options);

// check: every prerequisite; nothing changes (unless fix_source, which creates the
// publication / MS-CDC the check found missing).
struct CheckOptions {
  bool fix_source = false;
  bool test_connections = true;
};
Expected<std::vector<CheckResult>> check_migration(const MigrationConfig& config, Connections& connections,
                                                   const CheckOptions& options, EventSink& events);

Expected<ValidationReport> validate_migration(Connections& connections, const MigrationConfig& config);

struct StatusReport {
  std::vector<StepRecord> steps;
  nlohmann::json task;          // DMS task summary, when one exists
  nlohmann::json tables;        // DescribeTableStatistics
  std::optional<double> latency_source_s;
  std::optional<double> latency_target_s;
  std::string note;             // what could not be read
};
Expected<StatusReport> migration_status(const MigrationConfig& config, Journal& journal,
                                        std::optional<aws::AwsContext> aws);

struct CutoverOptions {
  std::chrono::seconds drain_timeout{600};
  double max_latency_s = 5;  // "drained" when both CDC latencies are at most this
  bool force = false;        // proceed although validation fails
  std::chrono::system_clock::time_point writes_stopped_at;  // when the user confirmed the app stopped
};
struct CutoverReport {
  ValidationReport validation;
  SchemaComparison schema;  // views, procedures, functions, triggers, foreign keys: present and enabled
  double downtime_s = 0;
  double drain_s = 0;
};
Expected<CutoverReport> cutover_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                                          EventSink& events, const CutoverOptions& options);

struct AbortOptions {
  bool drop_target_database = false;
};
Expected<void> abort_migration(const MigrationConfig& config, Connections& connections, Journal& journal,
                               EventSink& events, const AbortOptions& options);

}  // namespace m2r
