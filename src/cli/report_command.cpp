// `mssql2rds report [--out DIR]`: the cutover report written again from the journal, at any time
// (before the cutover it says so and shows what has happened so far). The cutover writes it at
// its end through the same function.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/lifecycle_support.hpp"
#include "core/migration_report.hpp"
#include "core/report_html.hpp"
#include "migrate/config_file.hpp"
#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {

namespace {

namespace fs = std::filesystem;

// Written beside, then renamed over: a reader (a browser, the ticket system) never sees half a file.
Expected<void> write_file(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      return fail(ErrorKind::prerequisite, fmt::format("cannot write the report {}: {}", tmp.string(), std::strerror(errno)),
                  "make the directory writable, or choose another with --out DIR");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return fail(ErrorKind::prerequisite, fmt::format("cannot write the report {}: {}", path.string(), ec.message()),
                "make the directory writable, or choose another with --out DIR");
  }
  return {};
}

}  // namespace

Expected<ReportFiles> write_report_files(const MigrationConfig& config, Journal& journal, const std::string& out_dir) {
  const auto steps = M2R_TRY(journal.steps());
  const auto events = M2R_TRY(all_events(journal));
  const ReportMeta meta{config.name, config.journal, std::chrono::system_clock::now()};
  const auto report = build_migration_report(meta, steps, events);

  // Next to the journal by default: sales.journal -> sales.report.html and sales.report.json.
  const fs::path journal_path(config.journal);
  const fs::path dir = out_dir.empty() ? journal_path.parent_path() : fs::path(out_dir);
  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return fail(ErrorKind::prerequisite, fmt::format("cannot create the report directory {}: {}", dir.string(), ec.message()),
                  "choose a writable directory with --out DIR");
    }
  }
  const std::string stem = journal_path.stem().string();
  ReportFiles files{(dir / (stem + ".report.html")).string(), (dir / (stem + ".report.json")).string(), report.cut_over,
                    report.state};
  M2R_TRY(write_file(files.html, render_report_html(report)));
  M2R_TRY(write_file(files.json, to_json(report).dump(2) + "\n"));
  return files;
}

std::function<int(const GlobalOptions&)> attach_report(CLI::App& app) {
  struct State {
    std::string config = "mssql2rds.toml";
    std::string out;
  };
  auto st = std::make_shared<State>();
  add_config_option(app, st->config);
  app.add_option("--out", st->out, "directory for the report files (default: the journal's directory)");
  return [st](const GlobalOptions& g) {
    auto config = load_config_file(st->config);
    if (!config) return report_error(g, config.error());
    auto journal = open_journal_for_reading(config->journal);
    if (!journal) return report_error(g, journal.error());
    auto files = write_report_files(*config, **journal, st->out);
    if (!files) return report_error(g, files.error());
    if (g.style.json) {
      std::cout << nlohmann::json{{"result", "report"},
                                  {"html", files->html},
                                  {"json", files->json},
                                  {"cut_over", files->cut_over},
                                  {"state", files->state}}
                       .dump()
                << std::endl;
    } else {
      std::cout << files->state << "\n";
      std::cout << "report: " << files->html << "\n        " << files->json << "\n";
    }
    return 0;
  };
}

}  // namespace m2r::cli
