#include "core/server_objects.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool identifier_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '@' || c == '#' || c == '$' || u >= 0x80;
}

// `name` in `text` as a whole identifier ([name], or name not inside a longer identifier).
bool names_identifier(const std::string& text, const std::string& name) {
  if (name.empty()) return false;
  const std::string t = lower(text), n = lower(name);
  if (t.find("[" + n + "]") != std::string::npos) return true;
  for (auto at = t.find(n); at != std::string::npos; at = t.find(n, at + 1)) {
    const bool starts = at == 0 || !identifier_char(t[at - 1]);
    const bool ends = at + n.size() == t.size() || !identifier_char(t[at + n.size()]);
    if (starts && ends) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& items, std::size_t most = 8) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < most; ++i) out += (i ? "; " : "") + items[i];
  if (items.size() > most) out += fmt::format("; and {} more", items.size() - most);
  return out;
}

CheckResult item(const char* id, const char* title, CheckStatus status, std::string detail, std::string fix = {}) {
  return {id, title, status, std::move(detail), std::move(fix)};
}

CheckResult unreadable(const char* id, const char* title, const Unreadable& u) {
  return item(id, title, CheckStatus::warn, "could not be read: " + u.error,
              u.grant + ", then run `mssql2rds check` again (nothing at the server level is listed until then)");
}

// Options whose value the server decides for itself or that only change what sp_configure
// shows: a difference says nothing about the migrated database.
bool compared(const std::string& option) { return lower(option) != "show advanced options"; }

// sqlcmd and SSMS end a batch at any line that is GO, even inside a string literal.
bool has_go_line(const std::string& command) {
  std::size_t start = 0;
  while (start <= command.size()) {
    auto end = command.find('\n', start);
    if (end == std::string::npos) end = command.size();
    std::string line = command.substr(start, end - start);
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (lower(line) == "go") return true;
    start = end + 1;
  }
  return false;
}

// An nvarchar(max) expression of `text` whose lines are joined with NCHAR(13) + NCHAR(10) /
// NCHAR(10), for a DECLARE (a procedure's argument cannot be an expression).
std::string joined_lines(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.pop_back();
    out += (out.empty() ? "CAST(" : " + ") + tsql::quote_literal(line) + (out.empty() ? " AS nvarchar(max))" : "");
    if (end == std::string::npos) break;
    out += crlf ? " + NCHAR(13) + NCHAR(10)" : " + NCHAR(10)";
    start = end + 1;
  }
  return out;
}

std::string commented(const std::string& text) {
  std::string out = "--   ";
  for (char c : text) {
    if (c == '\r') continue;
    out += c;
    if (c == '\n') out += "--   ";
  }
  return out;
}

}  // namespace

bool step_needs_operating_system(const AgentJobStep& step) {
  const auto s = lower(step.subsystem);
  return s == "cmdexec" || s == "powershell" || s == "activescripting";
}

bool job_touches_database(const AgentJob& job, const std::string& database) {
  for (const auto& step : job.steps) {
    if (lower(step.database_name) == lower(database)) return true;
    if (names_identifier(step.command, database)) return true;
  }
  return false;
}

std::vector<AgentJob> jobs_touching(const std::vector<AgentJob>& jobs, const std::string& database) {
  std::vector<AgentJob> out;
  for (const auto& j : jobs) {
    if (job_touches_database(j, database)) out.push_back(j);
  }
  return out;
}

std::vector<CheckResult> evaluate_server_objects(const ServerObjectFacts& f, const TargetConfiguration& target,
                                                 const std::string& database) {
  std::vector<CheckResult> r;
  // Agent jobs: RDS supports SQL Server Agent; the jobs stay on the source unless recreated.
  const char* jobs_title = "SQL Server Agent jobs that touch the database are recreated on RDS";
  const char* steps_title = "Agent job steps can run on RDS (T-SQL, not CmdExec/PowerShell)";
  if (f.agent_unreadable) {
    r.push_back(unreadable("server.agent_jobs", jobs_title, *f.agent_unreadable));
  } else {
    const auto touching = jobs_touching(f.jobs, database);
    if (touching.empty()) {
      r.push_back(item("server.agent_jobs", jobs_title, CheckStatus::pass,
                       fmt::format("no job names [{}] ({} job(s) on the server)", database, f.jobs.size())));
    } else {
      std::vector<std::string> names;
      for (const auto& j : touching) {
        names.push_back(fmt::format("'{}' ({} step(s){})", j.name, j.steps.size(), j.enabled ? "" : ", disabled"));
      }
      r.push_back(item("server.agent_jobs", jobs_title, CheckStatus::warn,
                       fmt::format("{} job(s) name [{}] and stay behind on the source server: {}", touching.size(),
                                   database, join(names)),
                       "recreate them on RDS (SQL Server Agent is supported there): `mssql2rds check --script-jobs "
                       "FILE` writes the msdb.dbo.sp_add_job / sp_add_jobstep calls; review it, run it on the RDS "
                       "instance as the master user, and disable the jobs on the source at the cutover"));
    }
    std::vector<std::string> os_steps;
    for (const auto& j : touching) {
      for (const auto& s : j.steps) {
        if (step_needs_operating_system(s)) {
          os_steps.push_back(fmt::format("job '{}' step {} '{}' ({})", j.name, s.step_id, s.name, s.subsystem));
        }
      }
    }
    if (os_steps.empty()) {
      r.push_back(item("server.agent_job_steps", steps_title, CheckStatus::pass,
                       "every step of those jobs is a T-SQL (or other non-OS) step"));
    } else {
      r.push_back(item("server.agent_job_steps", steps_title, CheckStatus::fail,
                       fmt::format("{} step(s) cannot run on RDS, which has no operating-system access and no "
                                   "xp_cmdshell: {}", os_steps.size(), join(os_steps)),
                       "move what they do outside the instance (a scheduler on a host or an AWS service that "
                       "connects to RDS) or rewrite them as T-SQL steps; the generated script turns each into a "
                       "T-SQL step that fails saying so, its command kept as a comment"));
    }
  }
  if (f.catalog_unreadable) {
    r.push_back(unreadable("server.linked_servers", "linked servers are recreated on RDS", *f.catalog_unreadable));
    r.push_back(unreadable("server.credentials", "credentials are recreated on RDS", *f.catalog_unreadable));
    r.push_back(unreadable("server.triggers", "no server-level triggers (RDS does not support them)", *f.catalog_unreadable));
  } else {
    if (f.linked_servers.empty()) {
      r.push_back(item("server.linked_servers", "linked servers are recreated on RDS", CheckStatus::pass, "no linked servers"));
    } else {
      std::vector<std::string> names;
      for (const auto& s : f.linked_servers) {
        names.push_back(fmt::format("{} ({}{}{})", s.name, s.product.empty() ? s.provider : s.product,
                                    s.data_source.empty() ? "" : " at ", s.data_source));
      }
      r.push_back(item("server.linked_servers", "linked servers are recreated on RDS", CheckStatus::warn,
                       fmt::format("{} linked server(s) stay behind: {}", names.size(), join(names)),
                       "RDS supports linked servers with limits (SQL Server targets; Oracle through OLEDB and "
                       "Teradata through ODBC as options): recreate each the application needs on RDS with "
                       "sp_addlinkedserver and sp_addlinkedsrvlogin (their remote passwords by hand: they cannot be "
                       "read back), reachable from the RDS instance's VPC"));
    }
    if (f.credentials.empty()) {
      r.push_back(item("server.credentials", "credentials are recreated on RDS", CheckStatus::pass, "no credentials"));
    } else {
      std::vector<std::string> names;
      for (const auto& c : f.credentials) names.push_back(fmt::format("{} (identity {})", c.name, c.identity));
      r.push_back(item("server.credentials", "credentials are recreated on RDS", CheckStatus::warn,
                       fmt::format("{} credential(s) stay behind: {}", names.size(), join(names)),
                       "a credential's secret cannot be read back from SQL Server: recreate each one needed on RDS "
                       "by hand, CREATE CREDENTIAL name WITH IDENTITY = '...', SECRET = '...' with the secret from "
                       "where you keep it (mssql2rds never reads or writes secrets)"));
    }
    if (f.triggers.empty()) {
      r.push_back(item("server.triggers", "no server-level triggers (RDS does not support them)", CheckStatus::pass,
                       "no server-level triggers"));
    } else {
      std::vector<std::string> names;
      for (const auto& t : f.triggers) {
        std::string events;
        for (const auto& e : t.events) events += (events.empty() ? "" : ", ") + e;
        names.push_back(fmt::format("{} (FOR {}{})", t.name, events, t.disabled ? ", disabled" : ""));
      }
      r.push_back(item("server.triggers", "no server-level triggers (RDS does not support them)", CheckStatus::warn,
                       fmt::format("{} trigger(s) ON ALL SERVER cannot exist on RDS: {}", names.size(), join(names)),
                       "RDS does not support server-level triggers: audit server events with SQL Server Audit (an RDS "
                       "option), or move database DDL events to a trigger ON DATABASE in the database itself"));
    }
  }
  const char* config_title = "server configuration (sp_configure) matches on RDS";
  if (f.configuration_unreadable) {
    r.push_back(unreadable("server.configuration", config_title, *f.configuration_unreadable));
  } else if (target.unknown_because) {
    r.push_back(item("server.configuration", config_title, CheckStatus::warn,
                     "the RDS instance's sys.configurations could not be read: " + *target.unknown_because,
                     "make the RDS instance reachable with the target login, then run `mssql2rds check` again"));
  } else {
    std::vector<std::string> differences, names;
    for (const auto& s : f.configuration) {
      if (!compared(s.name)) continue;
      for (const auto& t : target.configuration) {
        if (lower(t.name) != lower(s.name) || t.value_in_use == s.value_in_use) continue;
        differences.push_back(fmt::format("'{}': source {}, RDS {}", s.name, s.value_in_use, t.value_in_use));
        names.push_back(s.name);
      }
    }
    if (differences.empty()) {
      r.push_back(item("server.configuration", config_title, CheckStatus::pass,
                       fmt::format("{} option(s) compared, none differs", f.configuration.size())));
    } else {
      const bool cmdshell = std::any_of(names.begin(), names.end(), [](const std::string& n) { return lower(n) == "xp_cmdshell"; });
      r.push_back(item("server.configuration", config_title, CheckStatus::warn,
                       fmt::format("{} option(s) differ: {}", differences.size(), join(differences, 12)),
                       fmt::format("set it in the DB parameter group of the RDS instance (the master user has no ALTER "
                                   "SETTINGS, so sp_configure is refused there): aws rds modify-db-parameter-group "
                                   "--db-parameter-group-name GROUP --parameters "
                                   "\"ParameterName='{}',ParameterValue=VALUE,ApplyMethod=immediate\" for each, on a "
                                   "custom group attached to the instance{}",
                                   names.front(),
                                   cmdshell ? "; xp_cmdshell is not available on RDS at any setting" : "")));
    }
  }
  return r;
}

std::string script_agent_jobs(const std::vector<AgentJob>& jobs, const std::string& source_database,
                              const std::string& target_database) {
  std::string out;
  out += "-- SQL Server Agent jobs that touch [" + source_database + "], written by `mssql2rds check --script-jobs`\n";
  out += "-- to recreate them on Amazon RDS for SQL Server, where SQL Server Agent is supported. Run it on the\n";
  out += "-- RDS instance as the master user: the jobs are created in msdb and owned by the login that runs it.\n";
  out += "-- One batch on purpose (no GO). It holds no secret: credentials and proxies are not scripted.\n";
  out += "-- Review it before running it; a job of the same name already there makes it stop (Msg 14261).\n";
  out += "USE msdb;\n";
  int declared = 0;
  for (const auto& job : jobs) {
    const std::string job_name = tsql::quote_literal(job.name);
    out += "\n-- Job " + job.name + "\n";
    out += fmt::format("EXEC msdb.dbo.sp_add_job @job_name = {}, @enabled = {}, @description = {}, @start_step_id = {};\n",
                       job_name, job.enabled ? 1 : 0, tsql::quote_literal(job.description), job.start_step_id);
    for (const auto& step : job.steps) {
      std::string subsystem = step.subsystem, command = step.command, database = step.database_name;
      if (step_needs_operating_system(step)) {
        out += fmt::format("-- Step {} '{}' is a {} step: RDS has no operating-system access (no xp_cmdshell), so it\n"
                           "-- cannot run there. It becomes a T-SQL step that fails saying so. Its command was:\n{}\n",
                           step.step_id, step.name, step.subsystem, commented(step.command));
        subsystem = "TSQL";
        command = "RAISERROR(N'" +
                  fmt::format("Step {} was a {} step on the source server; RDS cannot run it: do its work outside the "
                              "instance.", step.step_id, step.subsystem) + "', 16, 1);";
        database = "master";
      } else if (lower(database) == lower(source_database)) {
        database = target_database;
      }
      if (source_database != target_database && names_identifier(step.command, source_database) &&
          !step_needs_operating_system(step)) {
        out += fmt::format("-- Step {} names [{}] in its command; on RDS the database is [{}]: edit it if needed.\n",
                           step.step_id, source_database, target_database);
      }
      std::string command_argument = tsql::quote_literal(command);
      if (has_go_line(command)) {
        const std::string variable = fmt::format("@command_{}", ++declared);
        out += fmt::format("DECLARE {} nvarchar(max) = {};  -- its GO lines would end a sqlcmd/SSMS batch\n", variable,
                           joined_lines(command));
        command_argument = variable;
      }
      out += fmt::format("EXEC msdb.dbo.sp_add_jobstep @job_name = {}, @step_id = {}, @step_name = {}, @subsystem = {}, "
                         "@command = {}",
                         job_name, step.step_id, tsql::quote_literal(step.name), tsql::quote_literal(subsystem),
                         command_argument);
      if (lower(subsystem) == "tsql") out += ", @database_name = " + tsql::quote_literal(database.empty() ? "master" : database);
      out += fmt::format(", @on_success_action = {}, @on_success_step_id = {}, @on_fail_action = {}, @on_fail_step_id = {}, "
                         "@retry_attempts = {}, @retry_interval = {};\n",
                         step.on_success_action, step.on_success_step_id, step.on_fail_action, step.on_fail_step_id,
                         step.retry_attempts, step.retry_interval);
    }
    for (const auto& s : job.schedules) {
      out += fmt::format("EXEC msdb.dbo.sp_add_jobschedule @job_name = {}, @name = {}, @enabled = {}, @freq_type = {}, "
                         "@freq_interval = {}, @freq_subday_type = {}, @freq_subday_interval = {}, "
                         "@freq_relative_interval = {}, @freq_recurrence_factor = {}, @active_start_date = {}, "
                         "@active_end_date = {}, @active_start_time = {}, @active_end_time = {};\n",
                         job_name, tsql::quote_literal(s.name), s.enabled ? 1 : 0, s.freq_type, s.freq_interval,
                         s.freq_subday_type, s.freq_subday_interval, s.freq_relative_interval, s.freq_recurrence_factor,
                         s.active_start_date, s.active_end_date, s.active_start_time, s.active_end_time);
    }
    out += fmt::format("EXEC msdb.dbo.sp_add_jobserver @job_name = {}, @server_name = N'(LOCAL)';\n", job_name);
  }
  if (jobs.empty()) out += "-- No job touches the database: nothing to recreate.\n";
  return out;
}

}  // namespace m2r
