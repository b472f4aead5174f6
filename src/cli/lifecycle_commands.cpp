// The lifecycle commands over one migration config: check, run, status, validate, cutover,
// abort. Each handler parses, makes one call into src/migrate and renders the answer.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "core/plan.hpp"
#include "migrate/config_file.hpp"
#include "migrate/migration.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

namespace {

void add_config_option(CLI::App& app, std::string& path) {
  app.add_option("-c,--config", path, "the migration's configuration file")->capture_default_str();
}

struct Loaded {
  MigrationConfig config;
  Connections connections;
};

Expected<Loaded> load(const std::string& path) {
  auto config = M2R_TRY(load_config_file(path));
  auto conn = M2R_TRY(default_connections(config));
  return Loaded{std::move(config), std::move(conn)};
}

bool confirm(const std::string& question) {
  if (isatty(STDIN_FILENO) == 0) return false;
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

std::string duration_of(const StepRecord& s) {
  if (!s.started_at) return "";
  const auto end = s.finished_at.value_or(std::chrono::system_clock::now());
  return human_duration(std::chrono::duration<double>(end - *s.started_at).count());
}

void print_validation(const GlobalOptions& g, const ValidationReport& r) {
  for (const auto& t : r.tables) {
    const auto rows = [](const std::optional<TableFingerprint>& f) { return f ? std::to_string(f->rows) : "-"; };
    std::cout << fmt::format("  {} {:<32} source {:>10} rows  target {:>10} rows  {}\n",
                             t.matches ? green(g.style, "OK  ") : red(g.style, "DIFF"), t.table, rows(t.source),
                             rows(t.target), t.problem);
  }
}

nlohmann::json validation_json(const ValidationReport& r) {
  auto tables = nlohmann::json::array();
  for (const auto& t : r.tables) {
    tables.push_back({{"table", t.table},
                      {"matches", t.matches},
                      {"problem", t.problem},
                      {"source_rows", t.source ? nlohmann::json(t.source->rows) : nlohmann::json()},
                      {"target_rows", t.target ? nlohmann::json(t.target->rows) : nlohmann::json()}});
  }
  return {{"ok", r.ok()}, {"mismatches", r.mismatches}, {"tables", tables}};
}

}  // namespace

std::function<int(const GlobalOptions&)> attach_check(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool fix = false;
    bool yes = false;
    bool no_test_connection = false;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--fix", st->fix, "create the publication / MS-CDC the source lacks (asks first)");
  app.add_flag("--yes", st->yes, "consent to --fix without asking");
  app.add_flag("--no-test-connection", st->no_test_connection, "skip DMS TestConnection (faster)");
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    CheckOptions opts;
    opts.test_connections = !st->no_test_connection;
    if (st->fix) {
      opts.fix_source = st->yes || confirm("Create the publication and/or enable MS-CDC on the source database now?");
      if (!opts.fix_source) {
        return report_error(g, Error(ErrorKind::invalid_input, "--fix needs your consent",
                                     "answer y at the prompt, or pass --yes"));
      }
    }
    EventRenderer renderer(g.style, stdout);
    auto results = check_migration(loaded->config, loaded->connections, opts, renderer);
    if (!results) return report_error(g, results.error());
    if (g.style.json) {
      auto j = nlohmann::json::array();
      for (const auto& r : *results) {
        j.push_back({{"id", r.id}, {"status", to_string(r.status)}, {"title", r.title}, {"detail", r.detail}, {"fix", r.fix}});
      }
      std::cout << nlohmann::json{{"checks", j}, {"ok", !any_failed(*results)}}.dump(2) << std::endl;
    } else {
      for (const auto& r : *results) {
        const auto tag = r.status == CheckStatus::pass ? green(g.style, "PASS")
                         : r.status == CheckStatus::warn ? yellow(g.style, "WARN")
                                                         : red(g.style, "FAIL");
        std::cout << fmt::format("{}  {}: {}\n", tag, r.title, r.detail);
        if (!r.fix.empty()) std::cout << "      fix: " << r.fix << "\n";
      }
    }
    return any_failed(*results) ? 1 : 0;
  };
}

std::function<int(const GlobalOptions&)> attach_run(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    std::string stop_after;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_option("--stop-after", st->stop_after, "stop once this step is done (rehearsals)")
      ->check(CLI::IsMember(run_step_order()));
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    EventRenderer renderer(g.style, stdout);
    RunOptions opts;
    opts.stop_after = st->stop_after;
    if (const char* poll = std::getenv("MSSQL2RDS_RESTORE_POLL_MS")) opts.restore_poll = std::chrono::milliseconds(std::atoi(poll));
    auto result = run_migration(loaded->config, loaded->connections, **journal, renderer, opts);
    renderer.finish_line();
    if (!result) return report_error(g, result.error());
    if (!g.style.json) {
      std::cout << (st->stop_after.empty()
                        ? "replicating: watch with `mssql2rds status --watch`; cut over with `mssql2rds cutover`\n"
                        : "stopped after " + st->stop_after + " as asked; `mssql2rds run` continues\n");
    }
    return 0;
  };
}

std::function<int(const GlobalOptions&)> attach_status(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool watch = false;
    int interval = 5;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--watch", st->watch, "refresh until interrupted");
  app.add_option("--interval", st->interval, "seconds between refreshes with --watch")->capture_default_str();
  return [st](const GlobalOptions& g) {
    auto config = load_config_file(st->config);
    if (!config) return report_error(g, config.error());
    auto aws = aws::AwsContext::from_environment({.region = config->s3.region});
    std::optional<aws::AwsContext> aws_opt;
    if (aws) aws_opt = *aws;
    for (;;) {
      auto journal = open_journal_for_reading(config->journal);
      if (!journal) return report_error(g, journal.error());
      auto report = migration_status(*config, **journal, aws_opt);
      if (!report) return report_error(g, report.error());
      if (g.style.json) {
        auto steps = nlohmann::json::array();
        for (const auto& s : report->steps) {
          steps.push_back({{"step", s.name}, {"status", to_string(s.status)}, {"attempts", s.attempts},
                           {"duration", duration_of(s)}, {"error", s.error}, {"outputs", s.outputs}});
        }
        nlohmann::json j = {{"steps", steps}, {"task", report->task}, {"tables", report->tables}};
        if (report->latency_source_s) j["cdc_latency_source_s"] = *report->latency_source_s;
        if (report->latency_target_s) j["cdc_latency_target_s"] = *report->latency_target_s;
        if (!report->note.empty()) j["note"] = report->note;
        std::cout << j.dump() << std::endl;
      } else {
        if (st->watch && g.style.interactive) std::cout << "\x1b[H\x1b[2J";
        std::cout << bold(g.style, "migration " + config->name) << "\n";
        for (const auto& s : report->steps) {
          if (s.name.find('/') != std::string::npos) continue;  // sub-steps (upload per stripe)
          const auto status = s.status == StepStatus::done     ? green(g.style, "done")
                              : s.status == StepStatus::failed ? red(g.style, "failed")
                                                               : yellow(g.style, to_string(s.status));
          std::cout << fmt::format("  {:<16} {:<8} {:>8}  {}\n", s.name, status, duration_of(s), s.error);
        }
        if (!report->task.is_null()) {
          std::cout << fmt::format("DMS task {}: {}", report->task.value("identifier", ""), report->task.value("status", ""));
          if (report->latency_source_s || report->latency_target_s) {
            std::cout << fmt::format("   CDC latency source {}s, target {}s",
                                     report->latency_source_s ? fmt::format("{:.0f}", *report->latency_source_s) : "?",
                                     report->latency_target_s ? fmt::format("{:.0f}", *report->latency_target_s) : "?");
          }
          std::cout << "\n";
          if (!report->task.value("last_failure_message", "").empty()) {
            std::cout << red(g.style, "  failure: ") << report->task.value("last_failure_message", "") << "\n";
          }
          for (const auto& t : report->tables) {
            std::cout << fmt::format("  {:<32} ins {:>8} upd {:>8} del {:>8}  {}\n", t.value("table", ""),
                                     t.value("inserts", 0), t.value("updates", 0), t.value("deletes", 0),
                                     t.value("state", ""));
          }
        }
        if (!report->note.empty()) std::cout << yellow(g.style, "note: ") << report->note << "\n";
      }
      if (!st->watch) return 0;
      std::this_thread::sleep_for(std::chrono::seconds(std::max(1, st->interval)));
    }
  };
}

std::function<int(const GlobalOptions&)> attach_validate(CLI::App& app) {
  auto path = std::make_shared<std::string>("mssql2rds.toml");
  add_config_option(app, *path);
  return [path](const GlobalOptions& g) {
    auto loaded = load(*path);
    if (!loaded) return report_error(g, loaded.error());
    std::optional<double> lag;
    if (auto journal = open_journal_for_reading(loaded->config.journal)) {
      if (auto st = migration_status(loaded->config, **journal, loaded->connections.aws)) {
        lag = st->latency_target_s;
      }
    }
    auto report = validate_migration(loaded->connections, loaded->config);
    if (!report) return report_error(g, report.error());
    if (g.style.json) {
      auto j = validation_json(*report);
      if (lag) j["cdc_latency_target_s"] = *lag;
      std::cout << j.dump(2) << std::endl;
    } else {
      std::cout << fmt::format("validation (CDC latency at this moment: {}):\n",
                               lag ? fmt::format("{:.0f}s", *lag) : "unknown");
      print_validation(g, *report);
      if (!report->ok()) {
        std::cout << fmt::format("{} table(s) differ; while CDC is running, differences may be lag: run again after "
                                 "the writes stop\n",
                                 report->mismatches);
      }
    }
    return report->ok() ? 0 : 1;
  };
}

std::function<int(const GlobalOptions&)> attach_cutover(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool yes = false;
    bool force = false;
    int drain_timeout = 600;
    double max_latency = 5;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--yes", st->yes, "the application has stopped writing (do not ask)");
  app.add_flag("--force", st->force, "proceed although validation fails");
  app.add_option("--drain-timeout", st->drain_timeout, "seconds to wait for CDC to drain")->capture_default_str();
  app.add_option("--max-latency", st->max_latency, "CDC latency (s) that counts as drained")->capture_default_str();
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    if (!st->yes && !confirm("Has the application stopped writing to the source database?")) {
      return report_error(g, Error(ErrorKind::invalid_input, "cutover needs the application stopped",
                                   "stop the writes, then answer y (or pass --yes)"));
    }
    CutoverOptions opts;
    opts.writes_stopped_at = std::chrono::system_clock::now();
    opts.force = st->force;
    opts.drain_timeout = std::chrono::seconds(st->drain_timeout);
    opts.max_latency_s = st->max_latency;
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    EventRenderer renderer(g.style, stdout);
    auto report = cutover_migration(loaded->config, loaded->connections, **journal, renderer, opts);
    renderer.finish_line();
    if (!report) return report_error(g, report.error());
    if (g.style.json) {
      std::cout << nlohmann::json{{"downtime_s", report->downtime_s}, {"drain_s", report->drain_s},
                                  {"validation", validation_json(report->validation)}}
                       .dump(2)
                << std::endl;
    } else {
      print_validation(g, report->validation);
      std::cout << bold(g.style, fmt::format("cutover complete: downtime {} (writes stopped -> target ready), CDC "
                                             "drained in {}\n",
                                             human_duration(report->downtime_s), human_duration(report->drain_s)));
    }
    return 0;
  };
}

std::function<int(const GlobalOptions&)> attach_abort(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool drop = false;
    bool yes = false;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--drop-target-database", st->drop, "also drop the restored database on RDS");
  app.add_flag("--yes", st->yes, "do not ask");
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    if (!st->yes && !confirm("Stop and delete the DMS task and abort the uploads?")) {
      return report_error(g, Error(ErrorKind::invalid_input, "abort needs your consent", "answer y or pass --yes"));
    }
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    EventRenderer renderer(g.style, stdout);
    auto r = abort_migration(loaded->config, loaded->connections, **journal, renderer, {st->drop});
    if (!r) return report_error(g, r.error());
    return 0;
  };
}

}  // namespace m2r::cli
