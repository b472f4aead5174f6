// `mssql2rds validate`: every table compared, source against target.
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
#include "core/plan.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/status.hpp"
#include "migrate/validate.hpp"

namespace m2r::cli {

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
    InterruptHandler interrupts;
    auto report = validate_migration(loaded->connections, loaded->config, &interrupts.stop());
    if (!report) return report_error(g, report.error());
    if (g.style.json) {
      auto j = validation_json(*report);
      j["result"] = "validate";
      if (lag) j["cdc_latency_target_s"] = *lag;
      std::cout << j.dump() << std::endl;
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

}  // namespace m2r::cli
