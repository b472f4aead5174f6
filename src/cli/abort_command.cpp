// `mssql2rds abort`: delete the DMS task, abort uploads, optionally drop the target.
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
#include "migrate/abort.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

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
    if (g.style.json) std::cout << nlohmann::json{{"result", "abort"}, {"ok", true}}.dump() << std::endl;
    return 0;
  };
}

}  // namespace m2r::cli
