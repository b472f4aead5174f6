// `mssql2rds cutover`: drain, stop, validate, re-enable, report the downtime.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "cli/interrupt_handler.hpp"
#include "cli/lifecycle_support.hpp"
#include "core/cutover_plan.hpp"
#include "core/database_settings.hpp"
#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "core/source_lock.hpp"
#include "migrate/cutover.hpp"
#include "migrate/schema_comparison.hpp"
#include "migrate/target_prep_step.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

namespace {

// `cutover --dry-run`: what the cutover would do now, from the journal alone (no connection,
// no AWS call): the task, the objects to turn back on, and what an interrupted cutover finished.
int print_cutover_plan(const GlobalOptions& g, const MigrationConfig& config, int drain_timeout, double max_latency,
                       bool lock_source) {
  auto journal = SqliteJournal::open(config.journal);
  if (!journal) return report_error(g, journal.error());
  auto read = [&](const char* step) { return (*journal)->step(step); };
  const auto replicate = read(steps::replicate);
  if (!replicate) return report_error(g, replicate.error());
  if (!*replicate || (*replicate)->status != StepStatus::done) {
    return report_error(g, Error(ErrorKind::prerequisite, "replication is not running yet: the run has not reached the DMS task",
                                 "finish `mssql2rds run` first; `mssql2rds plan` shows the whole migration"));
  }
  CutoverPlanInputs in;
  in.drain_timeout_s = drain_timeout;
  in.max_latency_s = max_latency;
  if (lock_source) {
    auto statement = source_lock::lock_statement(config.source.database);
    if (!statement) return report_error(g, statement.error());
    in.lock_statement = *statement;
  }
  in.schema_queries = schema_comparison_queries();
  in.schema_queries.push_back(database_settings::settings_query() + "  (the database's settings, compared)");
  in.schema_queries.push_back(database_settings::scoped_configurations_query());
  auto arn = string_field((*replicate)->outputs, "task_arn", journal_outputs(steps::replicate));
  if (!arn) return report_error(g, arn.error());
  in.task_arn = *arn;
  const auto prep = read(steps::prepare_target);
  if (!prep) return report_error(g, prep.error());
  auto objects = recorded_target_objects(*prep ? (*prep)->outputs : nlohmann::json::object());
  if (!objects) return report_error(g, objects.error());
  in.triggers = objects->triggers;
  in.foreign_keys = objects->foreign_keys;
  in.identity_tables = objects->identity_tables;
  const auto cut = read(steps::cutover);
  if (!cut) return report_error(g, cut.error());
  std::string state = "no cutover has started yet";
  if (*cut) {
    if ((*cut)->status == StepStatus::done) {
      return report_error(g, Error(ErrorKind::conflict, "cutover already completed",
                                   "nothing left to do; see `mssql2rds status`"));
    }
    const auto& out = (*cut)->outputs;
    const JsonSource source = journal_outputs(steps::cutover);
    auto stopped = bool_field_or(out, "task_stopped", false, source);
    auto done = out.contains("reenabled") ? string_list_field(out, "reenabled", source)
                                          : Expected<std::vector<std::string>>(std::vector<std::string>{});
    if (!stopped) return report_error(g, stopped.error());
    if (!done) return report_error(g, done.error());
    in.task_stopped_before = *stopped;
    in.validation_passed_before = *stopped && out.contains("validated_tables") && !out["validated_tables"].is_null();
    in.reenabled.insert(done->begin(), done->end());
    state = fmt::format("an earlier cutover is {} after {} attempt(s){}", to_string((*cut)->status), (*cut)->attempts,
                        *stopped ? "; it stopped the DMS task (if the task runs again, the drain is repeated)" : "");
  }
  print_plan(g, cutover_plan(in), "cutover-plan",
             fmt::format("Cutover plan for migration '{}' (journal {}): {}. Nothing has been changed.", config.name,
                         config.journal, state),
             "", {{"journal", config.journal}});
  return 0;
}

}  // namespace

std::function<int(const GlobalOptions&)> attach_cutover(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool yes = false;
    bool force = false;
    bool dry_run = false;
    bool lock_source = false;
    int drain_timeout = 600;
    double max_latency = 5;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--yes", st->yes, "the application has stopped writing (do not ask)");
  app.add_flag("--force", st->force, "proceed although validation fails");
  app.add_flag("--dry-run", st->dry_run,
               "print the cutover's T-SQL and DMS calls, step by step, from the journal; change nothing");
  app.add_flag("--lock-source", st->lock_source,
               "set the source database to RESTRICTED_USER WITH ROLLBACK IMMEDIATE before the drain: sessions of "
               "logins that are not sysadmin, dbcreator or db_owner end; `unlock-source` undoes it");
  app.add_option("--drain-timeout", st->drain_timeout, "seconds to wait for CDC to drain")->capture_default_str();
  app.add_option("--max-latency", st->max_latency, "CDC latency (s) that counts as drained")->capture_default_str();
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    if (st->dry_run) {
      return print_cutover_plan(g, loaded->config, st->drain_timeout, st->max_latency, st->lock_source);
    }
    if (!st->yes && !confirm("Has the application stopped writing to the source database?")) {
      return report_error(g, Error(ErrorKind::invalid_input, "cutover needs the application stopped",
                                   "stop the writes, then answer y (or pass --yes)"));
    }
    if (st->lock_source && !st->yes &&
        !confirm(fmt::format("Set [{}] on the source to RESTRICTED_USER WITH ROLLBACK IMMEDIATE? Sessions of logins "
                             "that are not sysadmin, dbcreator or db_owner are disconnected now and their open "
                             "transactions rolled back; `mssql2rds unlock-source` sets it back",
                             loaded->config.source.database))) {
      return report_error(g, Error(ErrorKind::invalid_input, "--lock-source needs your consent; nothing was changed",
                                   "answer y, pass --yes, or leave out --lock-source"));
    }
    CutoverOptions opts;
    opts.writes_stopped_at = std::chrono::system_clock::now();
    opts.force = st->force;
    opts.lock_source = st->lock_source;
    opts.drain_timeout = std::chrono::seconds(st->drain_timeout);
    opts.max_latency_s = st->max_latency;
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    EventRenderer renderer(g.style, stdout);
    InterruptHandler interrupts;
    opts.stop = &interrupts.stop();
    auto report = cutover_migration(loaded->config, loaded->connections, **journal, renderer, opts);
    renderer.finish_line();
    if (!report) {
      Error e = report.error();
      if (e.kind == ErrorKind::interrupted) {
        e.hint = fmt::format("`mssql2rds cutover -c {}` continues where this stopped", st->config);
      }
      return report_error(g, e);
    }
    // The report for the change ticket; the cutover is done whatever happens to it.
    const auto files = write_report_files(loaded->config, **journal, "");
    if (!files) {
      std::cerr << yellow(g.style, "warning: ") << "the cutover is complete but its report was not written: "
                << files.error().message << "\n  fix: " << files.error().hint << ", then `mssql2rds report -c "
                << st->config << " --out DIR`\n";
    }
    if (g.style.json) {
      std::cout << nlohmann::json{{"result", "cutover"},
                                  {"report_html", files ? nlohmann::json(files->html) : nlohmann::json()},
                                  {"report_json", files ? nlohmann::json(files->json) : nlohmann::json()},
                                  {"downtime_s", report->downtime_s},
                                  {"source_locked", report->source_locked},
                                  {"lock_s", report->lock_s},
                                  {"drain_s", report->drain_s},
                                  {"stop_s", report->stop_s},
                                  {"validation_s", report->validation_s},
                                  {"reenable_s", report->reenable_s},
                                  {"drain_proven_by_marker", report->drain_proven_by_marker},
                                  {"validation", validation_json(report->validation)}}
                       .dump()
                << std::endl;
    } else {
      print_validation(g, report->validation);
      std::cout << bold(g.style, fmt::format("cutover complete: downtime {} (writes stopped -> target ready)\n",
                                             human_duration(report->downtime_s)));
      if (report->source_locked) {
        std::cout << fmt::format("  source locked (RESTRICTED_USER) in {}; `mssql2rds unlock-source -c {}` sets it "
                                 "back when the source should take writes again\n",
                                 human_duration(report->lock_s), st->config);
      }
      std::cout << fmt::format("  CDC drained in {} ({}), task stopped in {}, validation {}, triggers and "
                               "constraints back on in {}\n",
                               human_duration(report->drain_s),
                               report->drain_proven_by_marker ? "the cutover marker reached the target"
                                                              : "judged from statistics: no marker table",
                               human_duration(report->stop_s), human_duration(report->validation_s),
                               human_duration(report->reenable_s));
      if (files) std::cout << "report: " << files->html << " (and " << files->json << ")\n";
    }
    return 0;
  };
}

}  // namespace m2r::cli
