// `mssql2rds run`: the journaled steps; resumes where a killed or failed run stopped.
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
#include "migrate/run.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

std::function<int(const GlobalOptions&)> attach_run(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    std::string stop_after;
    std::string redo_from;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_option("--stop-after", st->stop_after, "stop once this step is done (rehearsals)")
      ->check(CLI::IsMember(run_step_order()));
  app.add_option("--redo-from", st->redo_from,
                 "do this step and every later one again (after a changed backup file or configuration); a DMS "
                 "task and a target database the redone steps created are removed first")
      ->check(CLI::IsMember(run_step_order()));
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    EventRenderer renderer(g.style, stdout);
    InterruptHandler interrupts;
    RunOptions opts;
    opts.stop = &interrupts.stop();
    opts.stop_after = st->stop_after;
    opts.redo_from = st->redo_from;
    if (const char* poll = std::getenv("MSSQL2RDS_RESTORE_POLL_MS")) opts.restore_poll = std::chrono::milliseconds(std::atoi(poll));
    auto result = run_migration(loaded->config, loaded->connections, **journal, renderer, opts);
    renderer.finish_line();
    if (!result) {
      Error e = result.error();
      if (e.kind == ErrorKind::interrupted) {
        e.hint = fmt::format("`mssql2rds run -c {}` continues where this stopped (RDS and DMS work already started "
                             "goes on meanwhile)",
                             st->config);
      }
      return report_error(g, e);
    }
    if (g.style.json) {
      nlohmann::json j = {{"result", "run"}, {"ok", true}};
      if (!st->stop_after.empty()) j["stopped_after"] = st->stop_after;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << (st->stop_after.empty()
                        ? "replicating: watch with `mssql2rds status --watch`; cut over with `mssql2rds cutover`\n"
                        : "stopped after " + st->stop_after + " as asked; `mssql2rds run` continues\n");
    }
    return 0;
  };
}

}  // namespace m2r::cli
