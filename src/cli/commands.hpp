#pragma once
// The command table (ninja-style): every lifecycle command is one row; main() builds the
// CLI from it. A command appears here only once it is built: no stubs.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/terminal.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"

namespace m2r::cli {

struct GlobalOptions {
  bool json = false;
  bool no_color = false;
  OutputStyle style;  // filled in after parsing
};

// attach() declares the command's own options on its subcommand and returns the
// handler that runs it (exit code). Options live in state captured by the handler.
struct CommandSpec {
  const char* name;
  const char* summary;
  std::function<std::function<int(const GlobalOptions&)>(CLI::App&)> attach;
};

const std::vector<CommandSpec>& command_table();

// Per-command entry points (one file each).
std::function<int(const GlobalOptions&)> attach_lsn(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_init(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_plan(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_check(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_run(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_status(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_validate(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_cutover(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_abort(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_unlock_source(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_logins(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_demo(CLI::App& app);
std::function<int(const GlobalOptions&)> attach_report(CLI::App& app);

// The cutover report (core/migration_report), HTML and JSON, built from the journal and written
// to `out_dir` (empty: beside the journal, <journal stem>.report.html / .report.json).
struct ReportFiles {
  std::string html;
  std::string json;
  bool cut_over = false;
  std::string state;  // one sentence: cut over, or how far the migration got
};
Expected<ReportFiles> write_report_files(const MigrationConfig& config, Journal& journal, const std::string& out_dir);

// Prints "mssql2rds: error: ..." plus the hint, or a JSON error object; returns the exit code.
struct ErrorReport {
  std::string message;
  std::string hint;
  std::string kind;
  int exit_code;
};
int report_error(const GlobalOptions& global, const ErrorReport& report);
int report_error(const GlobalOptions& global, const Error& error);

}  // namespace m2r::cli
