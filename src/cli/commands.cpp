#include "cli/commands.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

namespace m2r::cli {

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = {
      {"init", "write a commented configuration template for one migration", attach_init},
      {"check", "check every prerequisite, each with its fix; changes nothing (unless --fix)", attach_check},
      {"plan", "print every step with the exact T-SQL and AWS calls it will make; changes nothing", attach_plan},
      {"run", "backup -> LSN -> upload -> restore -> prepare target -> DMS CDC; resumes where it stopped", attach_run},
      {"status", "steps, progress, the DMS task, table statistics and CDC latency", attach_status},
      {"validate", "every row's hash per key range, source against target, naming the differing keys", attach_validate},
      {"cutover", "drain CDC, stop the task, validate, re-enable triggers and constraints, write the report",
       attach_cutover},
      {"logins", "create on RDS the SQL logins the database's users map to (same SID and password hash), after the "
                 "restore; names what RDS needs instead for the rest",
       attach_logins},
      {"report", "write the report for the change ticket (HTML and JSON) from the journal, at any time", attach_report},
      {"abort", "stop and delete the DMS task, abort uploads, optionally drop the target database", attach_abort},
      {"unlock-source", "undo `cutover --lock-source`: the source database back to the user access it had",
       attach_unlock_source},
      {"demo", "the whole migration against the rehearsal world on loopback, under a live workload", attach_demo},
      {"lsn", "convert a SQL Server LSN between its forms and show the one AWS DMS takes", attach_lsn},
  };
  return table;
}

int report_error(const GlobalOptions& global, const ErrorReport& report) {
  if (global.style.json) {
    nlohmann::json j = {{"error", {{"kind", report.kind}, {"message", report.message}, {"exit_code", report.exit_code}}}};
    if (!report.hint.empty()) j["error"]["hint"] = report.hint;
    std::cout << j.dump() << std::endl;
  } else {
    std::cerr << red(global.style, "mssql2rds: error: ") << report.message << "\n";
    if (!report.hint.empty()) std::cerr << "  fix: " << report.hint << "\n";
  }
  return report.exit_code;
}

int report_error(const GlobalOptions& global, const Error& error) {
  return report_error(global, {error.message, error.hint, to_string(error.kind), exit_code_for(error.kind)});
}

}  // namespace m2r::cli
