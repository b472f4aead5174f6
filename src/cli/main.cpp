// mssql2rds: the thin command line. Parsing and rendering only; the work is in src/migrate.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "mssql/freetds_conf.hpp"
#include "version.hpp"

int main(int argc, char** argv) {
  using namespace m2r::cli;
  // FREETDSCONF is set here, before any thread runs (setenv is not thread-safe); a failure
  // comes back at the first FreeTDS connection that needs the file.
  (void)m2r::mssql::prepare_freetds_conf();
  CLI::App app{"mssql2rds: move a SQL Server database onto Amazon RDS for SQL Server with near-zero downtime\n"
               "(native backup -> S3 -> rds_restore_database -> AWS DMS CDC from the backup's LSN -> cutover)",
               "mssql2rds"};
  app.set_version_flag("--version", std::string("mssql2rds ") + m2r::k_version);
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_flag("--json", global.json, "machine-readable JSON output")->configurable(false);
  app.add_flag("--no-color", global.no_color, "no ANSI colours (NO_COLOR is honoured too)");
  app.fallthrough();

  std::function<int(const GlobalOptions&)> handler;
  for (const auto& spec : command_table()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.summary);
    auto run = spec.attach(*sub);
    sub->callback([&handler, run] { handler = run; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 returns 0 for --help/--version; usage errors become our invalid-input code.
    return code == 0 ? 0 : m2r::exit_code_for(m2r::ErrorKind::invalid_input);
  }
  global.style = detect_output_style(global.json, global.no_color);
  try {
    return handler(global);
  } catch (const std::exception& e) {
    return report_error(global, {e.what(), "this is a bug; please report it with the journal's event log",
                                 "error", m2r::exit_code_for(m2r::ErrorKind::fatal)});
  }
}
