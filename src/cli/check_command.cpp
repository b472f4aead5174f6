// `mssql2rds check [--fix [--yes]]`: every prerequisite, PASS/WARN/FAIL with its fix.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "cli/lifecycle_support.hpp"
#include "core/plan.hpp"
#include "migrate/check.hpp"

namespace m2r::cli {

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
      std::cout << nlohmann::json{{"result", "check"}, {"checks", j}, {"ok", !any_failed(*results)}}.dump() << std::endl;
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

}  // namespace m2r::cli
