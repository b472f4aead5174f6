// `mssql2rds validate`: every table compared, source against target.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "cli/interrupt_handler.hpp"
#include "cli/lifecycle_support.hpp"
#include "core/migration_report.hpp"
#include "core/plan.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/status.hpp"
#include "migrate/validate.hpp"

namespace m2r::cli {

namespace {

// Command-line values that override [validate] in the configuration (unset: the config's).
struct ValidateFlags {
  std::optional<int> chunk_rows;
  std::optional<int> max_rows_per_second;
  std::optional<int> lock_timeout_ms;
  std::optional<int> max_differences;
};

}  // namespace

std::function<int(const GlobalOptions&)> attach_validate(CLI::App& app) {
  auto path = std::make_shared<std::string>("mssql2rds.toml");
  auto flags = std::make_shared<ValidateFlags>();
  add_config_option(app, *path);
  app.add_option("--chunk-rows", flags->chunk_rows, "rows per key-range chunk (config: [validate] chunk_rows)")
      ->check(CLI::Range(100, 1000000));
  app.add_option("--max-rows-per-second", flags->max_rows_per_second,
                 "read at most this many source rows per second; 0 = unthrottled ([validate] max_rows_per_second)")
      ->check(CLI::Range(0, 1000000000));
  app.add_option("--lock-timeout-ms", flags->lock_timeout_ms,
                 "stop when a read waits longer for a writer's lock ([validate] lock_timeout_ms)")
      ->check(CLI::Range(-1, 3600000));
  app.add_option("--max-differences", flags->max_differences,
                 "differing rows named per table; the rest are counted ([validate] max_differences)")
      ->check(CLI::Range(1, 100000));
  return [path, flags](const GlobalOptions& g) {
    auto loaded = load(*path);
    if (!loaded) return report_error(g, loaded.error());
    auto& v = loaded->config.validate;
    if (flags->chunk_rows) v.chunk_rows = *flags->chunk_rows;
    if (flags->max_rows_per_second) v.max_rows_per_second = *flags->max_rows_per_second;
    if (flags->lock_timeout_ms) v.lock_timeout_ms = *flags->lock_timeout_ms;
    if (flags->max_differences) v.max_differences = *flags->max_differences;
    std::optional<double> lag;
    bool cutover_done = false;
    if (auto journal = open_journal_for_reading(loaded->config.journal)) {
      if (auto st = migration_status(loaded->config, **journal, loaded->connections.aws)) {
        lag = st->latency_target_s;
      }
      if (auto cut = (*journal)->step(steps::cutover); cut && *cut && (*cut)->status == StepStatus::done) cutover_done = true;
    }
    InterruptHandler interrupts;
    EventRenderer renderer(g.style, stdout);
    ValidationOptions options = validation_options(v);
    options.stop = &interrupts.stop();
    options.events = &renderer;
    // Journaled per table, so that cutover compares again only what changed since; a journal
    // that does not exist yet is not created by a validation.
    std::unique_ptr<SqliteJournal> record;
    std::string not_recorded;
    if (std::filesystem::exists(loaded->config.journal)) {
      if (auto opened = SqliteJournal::open(loaded->config.journal)) record = std::move(*opened);
      else not_recorded = "not journaled (" + opened.error().message + "): cutover will compare every table again";
    }
    auto report = record ? validate_and_record(loaded->connections, loaded->config, options, *record)
                         : validate_migration(loaded->connections, loaded->config, options);
    renderer.finish_line();
    if (!report) return report_error(g, report.error());
    if (!not_recorded.empty()) renderer.emit(Event{.kind = EventKind::warning, .step = "validate", .message = not_recorded});
    // For the report (`mssql2rds report`): what was compared, when, and what it found; through a
    // reader's connection when another process holds the journal.
    const auto result = report_records::validation_data(*report, "validate");
    if (record) {
      (void)record->append_event("validate", report_records::validation, result);
    } else if (auto observer = open_journal_for_reading(loaded->config.journal)) {
      (void)(*observer)->append_event("validate", report_records::validation, result);
    }
    // After the cutover the DMS task is stopped: what differs now is not replication lag.
    const std::string after_cutover =
        "the cutover is done and the DMS task is stopped: a difference is not CDC lag, it is what the target holds";
    if (g.style.json) {
      auto j = validation_json(*report);
      j["result"] = "validate";
      if (lag) j["cdc_latency_target_s"] = *lag;
      if (cutover_done) j["note"] = after_cutover;
      std::cout << j.dump() << std::endl;
    } else {
      if (cutover_done) std::cout << "validation (" << after_cutover << "):\n";
      else std::cout << fmt::format("validation (CDC latency at this moment: {}):\n", lag ? fmt::format("{:.0f}s", *lag) : "unknown");
      print_validation(g, *report);
      if (!report->ok()) {
        std::cout << (cutover_done ? fmt::format("{} table(s) differ\n", report->mismatches)
                                   : fmt::format("{} table(s) differ; while CDC is running, differences may be lag: run "
                                                 "again after the writes stop\n",
                                                 report->mismatches));
      }
    }
    return report->ok() ? 0 : 1;
  };
}

}  // namespace m2r::cli
