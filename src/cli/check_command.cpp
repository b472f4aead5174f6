// `mssql2rds check [--fix [--yes]] [--script-jobs FILE]`: every prerequisite, PASS/WARN/FAIL with
// its fix; with --script-jobs, the source's Agent jobs that touch the database as a T-SQL file
// that recreates them on RDS.
#include <chrono>
#include <cstdlib>
#include <fstream>
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
    std::string script_jobs;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--fix", st->fix,
               "create the publication / MS-CDC the source lacks, and a local Distributor when it has none (asks first)");
  app.add_flag("--yes", st->yes, "consent to --fix without asking");
  app.add_flag("--no-test-connection", st->no_test_connection, "skip DMS TestConnection (faster)");
  app.add_option("--script-jobs", st->script_jobs,
                 "write the source's SQL Server Agent jobs that touch the database to FILE, as T-SQL that recreates "
                 "them on RDS (run it there as the master user)");
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    CheckOptions opts;
    opts.test_connections = !st->no_test_connection;
    if (st->fix) {
      opts.fix_source = st->yes || confirm(
          "Create the publication and/or enable MS-CDC on the source database now (configuring a local Distributor "
          "first if the server has none: sp_adddistributor, sp_adddistributiondb, sp_adddistpublisher)?");
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
    if (!st->script_jobs.empty()) {
      auto script = agent_jobs_script(loaded->config, loaded->connections);
      if (!script) return report_error(g, script.error());
      std::ofstream out(st->script_jobs, std::ios::binary | std::ios::trunc);
      out << *script;
      out.close();
      if (!out) {
        return report_error(g, Error(ErrorKind::invalid_input, "cannot write " + st->script_jobs,
                                     "choose a path in a directory you can write to"));
      }
      if (!g.style.json) std::cout << "wrote the Agent jobs script to " << st->script_jobs << "\n";
    }
    return any_failed(*results) ? 1 : 0;
  };
}

}  // namespace m2r::cli
