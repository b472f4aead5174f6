// `mssql2rds unlock-source`: undo `cutover --lock-source`, setting the source database back to
// the user access it had before (MULTI_USER, usually).
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "cli/lifecycle_support.hpp"
#include "migrate/source_lock.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

std::function<int(const GlobalOptions&)> attach_unlock_source(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool yes = false;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--yes", st->yes, "do not ask");
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    const auto cutover = (*journal)->step(steps::cutover);
    if (!cutover) return report_error(g, cutover.error());
    const bool cut_over = *cutover && (*cutover)->status == StepStatus::done;
    // After a finished cutover the application belongs on RDS: writes to the source now reach
    // nothing. Before it, a stopped DMS task would not carry them either.
    const std::string consequence =
        cut_over ? "the cutover is complete: writes made on the source from now on do not reach RDS"
                 : "the cutover has not finished: if the DMS task is stopped, writes made on the source now reach "
                   "RDS only when a cutover validates them (it refuses if they differ)";
    if (!st->yes && !confirm(fmt::format("Let every login use [{}] on the source again? {}",
                                         loaded->config.source.database, consequence))) {
      return report_error(g, Error(ErrorKind::invalid_input, "unlock-source needs your consent; nothing was changed",
                                   "answer y or pass --yes"));
    }
    EventRenderer renderer(g.style, stdout);
    auto r = unlock_source(loaded->config, loaded->connections, **journal, renderer);
    renderer.finish_line();
    if (!r) return report_error(g, r.error());
    if (g.style.json) {
      std::cout << nlohmann::json{{"result", "unlock-source"},
                                  {"database", r->lock.database},
                                  {"statement", r->statement},
                                  {"access_before", r->access_before},
                                  {"access_now", r->statement.empty() ? r->access_before : r->lock.previous_access}}
                       .dump()
                << std::endl;
    } else {
      std::cout << fmt::format("source database [{}]: {} ({})\n", r->lock.database,
                               r->statement.empty() ? "was no longer restricted; the journal's lock is closed"
                                                    : "set back to " + r->lock.previous_access,
                               consequence);
    }
    return 0;
  };
}

}  // namespace m2r::cli
