// `mssql2rds logins`: the server logins the database's users need, created on RDS with their
// SIDs and password hashes after the restore (migrate/logins). Without --yes it asks; with
// --dry-run it prints the plan (the hashes not shown) and changes nothing.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "cli/lifecycle_support.hpp"
#include "migrate/logins.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

namespace {

const char* issue_kind(LoginIssueKind k) {
  switch (k) {
    case LoginIssueKind::windows_login: return "windows_login";
    case LoginIssueKind::hash_unreadable: return "hash_unreadable";
    case LoginIssueKind::role_not_grantable: return "role_not_grantable";
    case LoginIssueKind::orphaned_on_source: return "orphaned_on_source";
    case LoginIssueKind::name_taken: return "name_taken";
    case LoginIssueKind::default_database: return "default_database";
  }
  return "?";
}

nlohmann::json report_json(const LoginTransferReport& r, bool applied) {
  nlohmann::json issues = nlohmann::json::array(), statements = nlohmann::json::array();
  for (const auto& i : r.plan.issues)
    issues.push_back({{"kind", issue_kind(i.kind)}, {"principal", i.principal}, {"detail", i.detail}, {"fix", i.fix}, {"blocks", i.blocks}});
  for (const auto& a : r.plan.actions) statements.push_back(a.shown_sql);
  return {{"result", "logins"},
          {"applied", applied},
          {"statements", statements},
          {"already_present", r.plan.already_present},
          {"issues", issues},
          {"orphaned_users", r.orphaned_users},
          {"target_database_present", r.target_database_present}};
}

}  // namespace

std::function<int(const GlobalOptions&)> attach_logins(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    bool yes = false;
    bool dry_run = false;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_flag("--yes", st->yes, "create the logins on RDS without asking");
  app.add_flag("--dry-run", st->dry_run, "print the statements (password hashes not shown) and change nothing");
  return [st](const GlobalOptions& g) {
    auto loaded = load(st->config);
    if (!loaded) return report_error(g, loaded.error());
    EventRenderer renderer(g.style, stdout);
    // First read and plan, changing nothing; then, with consent, apply.
    auto planned = transfer_logins(loaded->config, loaded->connections, nullptr, renderer, {.apply = false});
    renderer.finish_line();
    if (!planned) return report_error(g, planned.error());
    const bool nothing_to_do = planned->plan.actions.empty();
    if (st->dry_run || nothing_to_do) {
      if (g.style.json) {
        std::cout << report_json(*planned, false).dump() << std::endl;
      } else {
        for (const auto& a : planned->plan.actions) std::cout << "  " << a.shown_sql << ";\n";
        if (nothing_to_do) std::cout << "nothing to create on RDS\n";
      }
      if (planned->plan.blocked()) return exit_code_for(ErrorKind::prerequisite);
      return planned->orphaned_users.empty() ? 0 : exit_code_for(ErrorKind::prerequisite);
    }
    if (!g.style.json) {
      for (const auto& a : planned->plan.actions) std::cout << "  " << a.shown_sql << ";\n";
    }
    if (!st->yes && !confirm(fmt::format("Run these {} statement(s) on RDS?", planned->plan.actions.size()))) {
      return report_error(g, Error(ErrorKind::invalid_input, "creating logins on RDS needs your consent",
                                   "answer y, or pass --yes (--dry-run shows the statements)"));
    }
    auto journal = SqliteJournal::open(loaded->config.journal);
    if (!journal) return report_error(g, journal.error());
    auto done = transfer_logins(loaded->config, loaded->connections, journal->get(), renderer, {.apply = true});
    renderer.finish_line();
    if (!done) return report_error(g, done.error());
    if (g.style.json) std::cout << report_json(*done, true).dump() << std::endl;
    else std::cout << fmt::format("{} statement(s) run on RDS; {} user(s) still orphaned\n", done->applied.size(), done->orphaned_users.size());
    return done->orphaned_users.empty() ? 0 : exit_code_for(ErrorKind::prerequisite);
  };
}

}  // namespace m2r::cli
