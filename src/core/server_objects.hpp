#pragma once
// What lives at the server level and a native backup/restore leaves behind, silently: SQL
// Server Agent jobs, linked servers, credentials, server-level triggers and the server
// configuration (sp_configure). Judged here, purely, into `check` items with what to do on RDS,
// and the Agent jobs that touch the migrated database scripted for RDS, where SQL Server Agent
// is supported and the master user creates jobs with msdb.dbo.sp_add_job. Read by
// src/migrate/server_object_facts. RDS facts relied on (RDS User Guide):
//  - "Features not supported and features with limited support": server-level triggers and
//    extended stored procedures (xp_cmdshell) are not supported; distributed queries / linked
//    servers have limited support (SQL Server targets; Oracle OLEDB and Teradata ODBC linked
//    servers as options).
//  - "Microsoft SQL Server security": the master user lacks ALTER SETTINGS; parameters are set
//    through the DB parameter group.
#include <optional>
#include <string>
#include <vector>

#include "core/checks.hpp"

namespace m2r {

struct AgentJobStep {
  int step_id = 1;
  std::string name;
  std::string subsystem = "TSQL";  // TSQL, CmdExec, PowerShell, ...
  std::string command;
  std::string database_name;       // TSQL steps: the database the command runs in
  int on_success_action = 1;       // 1 quit with success, 2 quit with failure, 3 next step, 4 go to step
  int on_success_step_id = 0;
  int on_fail_action = 2;
  int on_fail_step_id = 0;
  int retry_attempts = 0;
  int retry_interval = 0;
};

struct AgentJobSchedule {
  std::string name;
  bool enabled = true;
  int freq_type = 1, freq_interval = 0, freq_subday_type = 0, freq_subday_interval = 0;
  int freq_relative_interval = 0, freq_recurrence_factor = 0;
  int active_start_date = 0, active_end_date = 0, active_start_time = 0, active_end_time = 0;
};

struct AgentJob {
  std::string name;
  std::string description;
  bool enabled = true;
  int start_step_id = 1;
  std::vector<AgentJobStep> steps;  // by step_id
  std::vector<AgentJobSchedule> schedules;
};

struct LinkedServer {
  std::string name, product, provider, data_source;
};

struct ServerCredential {
  std::string name, identity;  // the secret cannot be read back
};

struct ServerTrigger {
  std::string name;
  bool disabled = false;
  std::vector<std::string> events;  // CREATE_LOGIN, ...
};

struct ConfigurationValue {
  std::string name;
  long long value_in_use = 0;
};

// A catalog the check's login could not read: what failed, and the GRANT that lets it.
struct Unreadable {
  std::string error;
  std::string grant;
};

struct ServerObjectFacts {
  std::optional<Unreadable> agent_unreadable;  // msdb.dbo.sysjobs and friends
  std::vector<AgentJob> jobs;                  // every job of the server
  std::optional<Unreadable> catalog_unreadable;  // sys.servers, sys.credentials, sys.server_triggers
  std::vector<LinkedServer> linked_servers;    // is_linked = 1 only
  std::vector<ServerCredential> credentials;   // '##'-named system credentials left out
  std::vector<ServerTrigger> triggers;
  std::optional<Unreadable> configuration_unreadable;
  std::vector<ConfigurationValue> configuration;  // sys.configurations value_in_use
};

// The RDS side of the comparison: the target's sys.configurations, or why it is unknown.
struct TargetConfiguration {
  std::optional<std::string> unknown_because;
  std::vector<ConfigurationValue> configuration;
};

// True when a step runs in `database` (its database_name) or its command names it as an
// identifier: [db], db.schema.object, USE db.
bool job_touches_database(const AgentJob& job, const std::string& database);
std::vector<AgentJob> jobs_touching(const std::vector<AgentJob>& jobs, const std::string& database);
// CmdExec, PowerShell and ActiveScripting steps: they need the operating system, which RDS
// does not give (no xp_cmdshell, no OS access).
bool step_needs_operating_system(const AgentJobStep& step);

// The check items: server.agent_jobs, server.agent_job_steps, server.linked_servers,
// server.credentials, server.triggers, server.configuration. `database` is the migrated one.
std::vector<CheckResult> evaluate_server_objects(const ServerObjectFacts& source, const TargetConfiguration& target,
                                                 const std::string& database);

// A T-SQL script that recreates `jobs` on RDS: msdb.dbo.sp_add_job, sp_add_jobstep,
// sp_add_jobschedule, sp_add_jobserver, in one batch (no GO: a command's own GO lines cannot
// split it). TSQL steps in `source_database` run in `target_database`; a step that needs the
// operating system becomes a TSQL step that fails saying so, its command kept as a comment,
// so that step numbers and the steps' flow stay as they were. Jobs are owned by the login
// that runs the script (the master user). Nothing secret is in it: credentials are not read.
std::string script_agent_jobs(const std::vector<AgentJob>& jobs, const std::string& source_database,
                              const std::string& target_database);

}  // namespace m2r
