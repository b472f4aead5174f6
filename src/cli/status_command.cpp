// `mssql2rds status [--watch]`: steps, the DMS task, table statistics, CDC latency.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "cli/interrupt_handler.hpp"
#include "cli/lifecycle_support.hpp"
#include "core/plan.hpp"
#include "core/lob_mode.hpp"
#include "migrate/config_file.hpp"
#include "migrate/connections.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/status.hpp"

namespace m2r::cli {

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
    // The source, to check a limited LOB mode against today's values (unreachable: a note).
    SourceOpener open_source;
    if (auto connections = default_connections(*config)) open_source = connections->source;
    // --watch runs until interrupted: Ctrl-C ends it between refreshes, as asked (exit 0).
    std::optional<InterruptHandler> interrupts;
    if (st->watch) interrupts.emplace();
    // The LOB re-measurement scans the LOB tables: with --watch, once a minute, its notes kept between.
    constexpr auto k_lob_remeasure = std::chrono::minutes(1);
    std::optional<std::chrono::steady_clock::time_point> lobs_measured;
    std::vector<std::string> lob_notes;
    for (;;) {
      auto journal = open_journal_for_reading(config->journal);
      if (!journal) return report_error(g, journal.error());
      const bool measure = !lobs_measured || std::chrono::steady_clock::now() - *lobs_measured >= k_lob_remeasure;
      auto report = migration_status(*config, **journal, aws_opt, measure ? open_source : SourceOpener{},
                                     interrupts ? &interrupts->stop() : nullptr);
      if (!report) return report_error(g, report.error());
      if (measure) {
        lobs_measured = std::chrono::steady_clock::now();
        lob_notes = report->lob_notes;
      } else {
        report->lob_notes = lob_notes;
      }
      if (g.style.json) {
        auto steps = nlohmann::json::array();
        for (const auto& s : report->steps) {
          steps.push_back({{"step", s.name}, {"status", to_string(s.status)}, {"attempts", s.attempts},
                           {"duration", duration_of(s)}, {"error", s.error}, {"outputs", s.outputs}});
        }
        nlohmann::json j = {{"result", "status"}, {"steps", steps}, {"task", report->task}, {"tables", report->tables}};
        if (report->latency_source_s) j["cdc_latency_source_s"] = *report->latency_source_s;
        if (report->latency_target_s) j["cdc_latency_target_s"] = *report->latency_target_s;
        if (!report->note.empty()) j["note"] = report->note;
        if (!report->lobs.is_null()) j["lobs"] = report->lobs;
        j["lob_notes"] = report->lob_notes;
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
        if (!report->lobs.is_null()) {
          if (auto lobs = lob_decision_from_json(report->lobs)) {
            std::cout << describe(*lobs) << "  (measured when the task was created)\n";
          }
        }
        for (const auto& n : report->lob_notes) std::cout << red(g.style, "LOB over LobMaxSize: ") << n << "\n";
        if (!report->note.empty()) std::cout << yellow(g.style, "note: ") << report->note << "\n";
      }
      if (report->problem) return report_error(g, *report->problem);
      if (!st->watch) return 0;
      if (interrupts->stop().wait_for(std::chrono::seconds(std::max(1, st->interval)))) return 0;
    }
  };
}

}  // namespace m2r::cli
