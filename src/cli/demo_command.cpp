// `mssql2rds demo`: the whole migration against the rehearsal world on loopback, under a
// live workload; one call into src/migrate (run_demo), rendered like `run`.
#include <chrono>
#include <ctime>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/event_renderer.hpp"
#include "demo/demo.hpp"
#include "migrate/config_file.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

namespace {
std::string default_demo_dir() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  return fmt::format("/tmp/mssql2rds-demo-{}", stamp);
}

Expected<ReportFiles> write_demo_report(const std::string& config_path) {
  const auto config = M2R_TRY(load_config_file(config_path));
  auto journal = M2R_TRY(open_journal_for_reading(config.journal));
  return write_report_files(config, *journal, "");
}
}  // namespace

std::function<int(const GlobalOptions&)> attach_demo(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  options->dir = default_demo_dir();
  app.add_option("--dir", options->dir, "where the world and the migration keep their files")->capture_default_str();
  app.add_option("--sandbox", options->sandbox_exe, "the mssql2rds-sandbox executable (default: beside this one, or PATH)");
  app.add_flag("--keep-world", options->keep_world, "leave the world running afterwards, to try the commands by hand");
  app.add_flag("--setup-only", options->setup_only,
               "start the world, write the configuration and create the sample database, then stop (the world "
               "keeps running): run the lifecycle commands yourself");
  app.add_option("--size-mib", options->size_mib,
                 "the sample database's size: customers, orders, products and their LOB values in proportion "
                 "(the largest LOBs up to 4 MiB); e.g. 80 for a benchmark")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--customers", options->customers, "customers in the sample database (default: 25 per MiB)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--rate", options->transactions_per_second, "the application's transactions per second")
      ->capture_default_str()->check(CLI::Range(0.5, 200.0));
  app.add_option("--replicate-seconds", options->replicate_for, "seconds of CDC under the workload before the cutover")
      ->capture_default_str()->check(CLI::Range(0, 3600));
  return [options](const GlobalOptions& g) {
    EventRenderer renderer(g.style, stdout);
    auto report = run_demo(*options, renderer);
    renderer.finish_line();
    if (!report) return report_error(g, report.error());
    if (options->setup_only) {
      if (g.style.json) {
        std::cout << nlohmann::json{{"result", "demo"}, {"dir", report->dir}, {"config", report->config_path}, {"env", report->dir + "/env"}}.dump()
                  << std::endl;
      } else {
        std::cout << fmt::format(
            "\nthe rehearsal world is running in {0}. In a shell:\n"
            "  . {0}/env\n"
            "  export MSSQL2RDS_SOURCE_PASSWORD=\"$(cat {0}/secrets/sa_password)\" "
            "MSSQL2RDS_TARGET_PASSWORD=\"$(cat {0}/secrets/sa_password)\"\n"
            "  mssql2rds check --fix -c {1}    # then run, status, validate, cutover\n"
            "stop it with: mssql2rds-sandbox world down --dir {0}\n",
            report->dir, report->config_path);
      }
      return 0;
    }
    // The report a user's cutover writes, from the demo's journal (the world may be down).
    std::optional<ReportFiles> files;
    std::string report_problem;
    if (auto written = write_demo_report(report->config_path)) files = *written;
    else report_problem = written.error().message;
    const bool long_once = report->long_transaction_rows_on_target == 1;
    const bool ok = report->cutover.validation.ok() && long_once && report->cutover.schema.ok() && report->app_login_rows_equal;
    const auto& w = report->workload;
    if (g.style.json) {
      std::cout << nlohmann::json{{"result", "demo"}, {"ok", ok},
                                  {"dir", report->dir},
                                  {"config", report->config_path},
                                  {"downtime_s", report->cutover.downtime_s},
                                  {"drain_s", report->cutover.drain_s},
                                  {"tables_matching", report->cutover.validation.tables.size() - report->cutover.validation.mismatches},
                                  {"mismatches", report->cutover.validation.mismatches},
                                  {"schema_objects", report->cutover.schema.source_objects},
                                  {"schema_ok", report->cutover.schema.ok()},
                                  {"schema", report->cutover.schema.summary()},
                                  {"workload_transactions", w.transactions},
                                  {"workload_lob_updates", w.lob_updates},
                                  {"workload_largest_lob_bytes", w.largest_lob_written},
                                  {"long_transaction_rows_on_target", report->long_transaction_rows_on_target},
                                  {"app_login_rows_equal", report->app_login_rows_equal},
                                  {"report_html", files ? nlohmann::json(files->html) : nlohmann::json()},
                                  {"report_json", files ? nlohmann::json(files->json) : nlohmann::json()},
                                  {"total_s", report->total_s}}
                       .dump()
                << std::endl;
    } else {
      std::cout << fmt::format(
          "\n{} in {:.0f} s: {} transactions of live workload replicated; downtime {:.1f} s (drain {:.1f} s)\n"
          "  tables: {} of {} equal on source and target (every row's SHA2_256 hash)\n"
          "  the transaction open across the end of the backup is on the target {} time(s) (expected exactly once)\n"
          "  schema: {}\n"
          "  the application's own login on RDS, after `logins`: {}\n"
          "  files: {} (configuration {})\n",
          ok ? green(g.style, "demo migration complete") : red(g.style, "demo migration found differences"),
          report->total_s, w.transactions, report->cutover.downtime_s, report->cutover.drain_s,
          report->cutover.validation.tables.size() - report->cutover.validation.mismatches,
          report->cutover.validation.tables.size(), report->long_transaction_rows_on_target, report->cutover.schema.summary(),
          report->app_login_rows_equal ? "logged in with its password, every table's rows equal" : report->app_login_detail, report->dir,
          report->config_path);
      if (files) std::cout << fmt::format("  report: {} (and {})\n", files->html, files->json);
      else std::cout << "  the report was not written: " << report_problem << "\n";
      if (options->keep_world) {
        std::cout << fmt::format("  the world is still running: `. {0}/env`, then e.g. `mssql2rds status -c {1}`; stop it "
                                 "with `mssql2rds-sandbox world down --dir {0}`\n",
                                 report->dir, report->config_path);
      }
    }
    return ok ? 0 : exit_code_for(ErrorKind::integrity);
  };
}

}  // namespace m2r::cli
