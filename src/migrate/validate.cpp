#include "migrate/validate.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "migrate/status.hpp"
#include "migrate/validation_history.hpp"

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

Expected<ValidationReport> validate_and_record(Connections& connections, const MigrationConfig& config,
                                               ValidationOptions options, Journal& journal) {
  auto src = M2R_TRY(connections.source());
  auto tgt = M2R_TRY(connections.target(config.target.database));
  if (!options.clock) options.clock = connections.clock.get();
  // Read before the first table: every change after it is in the log after it.
  const auto position = source_log_position(*src);
  auto report = M2R_TRY(validate_databases(*src, *tgt, options));
  M2R_TRY(note_lobs_over_limit(report, *src, config, options.stop));
  M2R_TRY(record_validation(journal, report, position ? *position : std::string()));
  return report;
}

Expected<ValidationReport> revalidate_changed(Connections& connections, const MigrationConfig& config,
                                              ValidationOptions options, Journal& journal, EventSink& events) {
  auto src = M2R_TRY(connections.source());
  auto tgt = M2R_TRY(connections.target(config.target.database));
  if (!options.clock) options.clock = connections.clock.get();
  const auto last = M2R_TRY(last_validations(journal));
  RevalidationPlan plan;
  if (const auto since = oldest_position(last); !since.empty()) {
    std::vector<std::string> tables;
    for (const auto& [name, v] : last) tables.push_back(name);
    auto log = source_log_changes_since(*src, since);
    if (!log) {
      events.emit(Event{.kind = EventKind::warning, .step = "cutover",
                        .message = "the source's log could not be read (" + log.error().message +
                                   "): every table is compared again"});
    }
    plan = plan_revalidation(tables, last, log ? std::optional<LogChanges>(*log) : std::nullopt);
  }
  for (const auto& t : plan.reused) options.skip_tables.insert(t.table);
  options.compare_rows = plan.compare_rows;
  for (const auto& [table, why] : plan.why_whole) {
    events.emit(info_event("cutover", fmt::format("validation: {} is compared whole: {}", table, why)));
  }
  auto report = M2R_TRY(validate_databases(*src, *tgt, options));
  M2R_TRY(note_lobs_over_limit(report, *src, config, options.stop));
  const std::size_t compared_now = report.tables.size();
  std::size_t by_rows = 0, rows_compared = 0;
  for (const auto& t : report.tables) {
    if (const auto it = plan.compare_rows.find(t.table); it != plan.compare_rows.end() && !t.compared.empty()) {
      ++by_rows;
      rows_compared += it->second.lock_resources.size() + it->second.keys.size();
    }
  }
  for (auto& reused : plan.reused) {
    const bool reported = std::any_of(report.tables.begin(), report.tables.end(),
                                      [&](const TableComparison& t) { return t.table == reused.table; });
    if (!reported) report.tables.push_back(std::move(reused));
  }
  std::sort(report.tables.begin(), report.tables.end(),
            [](const TableComparison& a, const TableComparison& b) { return a.table < b.table; });
  events.emit(info_event("cutover", fmt::format("validation: {} table(s) compared whole now, {} at the {} row(s) the "
                                                "source's log shows changed since their validation, {} equal at an "
                                                "earlier validation and unchanged since by the source's log",
                                                compared_now - by_rows, by_rows, rows_compared,
                                                report.tables.size() - compared_now)));
  return report;
}

}  // namespace m2r
