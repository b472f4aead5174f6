// Server-level objects (server_objects.hpp): SQL Server Agent jobs in msdb, linked servers,
// credentials, server-level DDL triggers and the configuration options, with the documented
// procedures and statements that write them and the errors they raise. On an RDS instance
// (InstanceKind::rds) what the RDS master user may not do is refused as RDS refuses it:
// sp_configure / RECONFIGURE (no ALTER SETTINGS: "you can use the DB parameter group API
// operations to modify parameters", RDS User Guide, "Microsoft SQL Server security") and
// server-level triggers ("Features not supported and features with limited support").
#include "engine/server_objects.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

std::string new_guid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%04X-%012llX", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>((a & 0x0FFF) | 0x4000),
                static_cast<unsigned>(((b >> 48) & 0x3FFF) | 0x8000), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

// uniqueidentifier <-> its 16 bytes as SQL Server stores them (the first three groups little-endian).
std::string guid_from_bytes(const std::vector<std::uint8_t>& b) {
  if (b.size() != 16) return {};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[3], b[2], b[1], b[0],
                b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}
std::string guid_to_bytes(const std::string& g) {
  std::string hex;
  for (char c : g) if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
  if (hex.size() != 32) return {};
  std::string raw(16, '\0');
  for (int i = 0; i < 16; ++i) raw[static_cast<std::size_t>(i)] = static_cast<char>(std::stoi(hex.substr(static_cast<std::size_t>(i) * 2, 2), nullptr, 16));
  static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out(16, '\0');
  for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = raw[static_cast<std::size_t>(order[i])];
  return out;
}

std::string upper_text(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// The configuration options the sandbox models: a realistic subset of sys.configurations,
// with SQL Server 2019's ids, defaults, ranges, is_dynamic and is_advanced.
struct ConfigOption {
  int id;
  const char* name;
  std::int64_t value, minimum, maximum;
  bool dynamic, advanced;
  const char* description;
};
const ConfigOption k_config_options[] = {
    {117, "remote access", 1, 0, 1, false, false, "Allow remote access"},
    {518, "show advanced options", 0, 0, 1, true, false, "show advanced options"},
    {1538, "cost threshold for parallelism", 5, 0, 32767, true, true, "cost threshold for parallelism"},
    {1539, "max degree of parallelism", 0, 0, 32767, true, true, "maximum degree of parallelism"},
    {1543, "min server memory (MB)", 0, 0, 2147483647, true, true, "Minimum size of server memory (MB)"},
    {1544, "max server memory (MB)", 2147483647, 128, 2147483647, true, true, "Maximum size of server memory (MB)"},
    {1562, "clr enabled", 0, 0, 1, true, false, "CLR user code execution enabled in the server"},
    {1569, "blocked process threshold (s)", 0, 0, 86400, true, true, "Blocked process reporting threshold"},
    {1576, "remote admin connections", 0, 0, 1, true, false, "Dedicated Admin Connections are allowed from remote clients"},
    {1579, "backup compression default", 0, 0, 1, true, false, "Enable compression of backups by default"},
    {1581, "optimize for ad hoc workloads", 0, 0, 1, true, true, "When this option is set, plan cache size is further reduced for single-use adhoc OLTP workload."},
    {16390, "xp_cmdshell", 0, 0, 1, true, true, "Enable or disable command shell"},
    {16391, "Ad Hoc Distributed Queries", 0, 0, 1, true, true, "Enable or disable Ad Hoc Distributed Queries"},
};

// sp_add_jobstep @subsystem: the values sp_enum_sqlagent_subsystems lists.
const char* const k_subsystems[] = {"TSQL", "CmdExec", "PowerShell", "ActiveScripting", "Distribution", "Snapshot",
                                    "LogReader", "Merge", "QueueReader", "ANALYSISQUERY", "ANALYSISCOMMAND", "SSIS"};

}  // namespace

void create_server_objects_schema(sqlite3* msdb, const std::string& server_name) {
  exec(msdb,
       // SQL Server Agent (msdb.dbo.*), columns as documented.
       "CREATE TABLE IF NOT EXISTS sysjobs(job_id uniqueidentifier PRIMARY KEY, originating_server_id int DEFAULT 0,"
       " name nvarchar(128) NOT NULL UNIQUE COLLATE NOCASE, enabled tinyint, description nvarchar(512), start_step_id int,"
       " category_id int, owner_sid varbinary(85), notify_level_eventlog int DEFAULT 2, notify_level_email int DEFAULT 0,"
       " notify_level_netsend int DEFAULT 0, notify_level_page int DEFAULT 0, notify_email_operator_id int DEFAULT 0,"
       " notify_netsend_operator_id int DEFAULT 0, notify_page_operator_id int DEFAULT 0, delete_level int DEFAULT 0,"
       " date_created datetime, date_modified datetime, version_number int DEFAULT 1);"
       "CREATE TABLE IF NOT EXISTS sysjobsteps(job_id uniqueidentifier, step_id int, step_name nvarchar(128),"
       " subsystem nvarchar(40), command nvarchar(-1), flags int DEFAULT 0, additional_parameters nvarchar(-1),"
       " cmdexec_success_code int DEFAULT 0, on_success_action tinyint, on_success_step_id int, on_fail_action tinyint,"
       " on_fail_step_id int, server nvarchar(128), database_name nvarchar(128), database_user_name nvarchar(128),"
       " retry_attempts int, retry_interval int, os_run_priority int DEFAULT 0, output_file_name nvarchar(200),"
       " last_run_outcome int DEFAULT 0, last_run_duration int DEFAULT 0, last_run_retries int DEFAULT 0,"
       " last_run_date int DEFAULT 0, last_run_time int DEFAULT 0, proxy_id int, step_uid uniqueidentifier,"
       " PRIMARY KEY(job_id, step_id));"
       "CREATE TABLE IF NOT EXISTS sysschedules(schedule_id INTEGER PRIMARY KEY, schedule_uid uniqueidentifier,"
       " originating_server_id int DEFAULT 0, name nvarchar(128), owner_sid varbinary(85), enabled int, freq_type int,"
       " freq_interval int, freq_subday_type int, freq_subday_interval int, freq_relative_interval int,"
       " freq_recurrence_factor int, active_start_date int, active_end_date int, active_start_time int,"
       " active_end_time int, date_created datetime, date_modified datetime, version_number int DEFAULT 1);"
       "CREATE TABLE IF NOT EXISTS sysjobschedules(schedule_id int, job_id uniqueidentifier, next_run_date int DEFAULT 0,"
       " next_run_time int DEFAULT 0);"
       "CREATE TABLE IF NOT EXISTS sysjobservers(job_id uniqueidentifier, server_id int, last_run_outcome tinyint DEFAULT 5,"
       " last_outcome_message nvarchar(4000), last_run_date int DEFAULT 0, last_run_time int DEFAULT 0,"
       " last_run_duration int DEFAULT 0);"
       // Server-level catalog (sys.servers, sys.credentials, sys.server_triggers, sys.configurations).
       "CREATE TABLE IF NOT EXISTS __m2r_servers(server_id INTEGER PRIMARY KEY, name nvarchar(128) NOT NULL UNIQUE COLLATE NOCASE,"
       " product nvarchar(128), provider nvarchar(128), data_source nvarchar(4000), location nvarchar(4000),"
       " provider_string nvarchar(4000), catalog nvarchar(128), is_linked bit, modify_date datetime);"
       "CREATE TABLE IF NOT EXISTS __m2r_credentials(credential_id INTEGER PRIMARY KEY, name nvarchar(128) NOT NULL UNIQUE"
       " COLLATE NOCASE, credential_identity nvarchar(4000), create_date datetime, modify_date datetime,"
       " target_type nvarchar(100), target_id int);"  // the secret is not kept: nothing can read it back
       "CREATE TABLE IF NOT EXISTS __m2r_server_triggers(object_id INTEGER PRIMARY KEY, name nvarchar(128) NOT NULL UNIQUE"
       " COLLATE NOCASE, definition nvarchar(-1), events nvarchar(-1), is_disabled bit DEFAULT 0, create_date datetime,"
       " modify_date datetime);"
       "CREATE TABLE IF NOT EXISTS __m2r_configurations(configuration_id int PRIMARY KEY, name nvarchar(35), value int,"
       " minimum int, maximum int, value_in_use int, description nvarchar(255), is_dynamic bit, is_advanced bit);"
       "UPDATE __m2r_configurations SET value_in_use = value;");
  {
    Stmt s(msdb, "INSERT OR IGNORE INTO __m2r_servers(server_id, name, product, provider, data_source, is_linked, modify_date)"
                 " VALUES(0, ?, 'SQL Server', 'SQLNCLI', ?, 0, ?)");
    s.bind(1, server_name).bind(2, server_name).bind(3, now_datetime());
    s.step();
  }
  Stmt c(msdb, "INSERT OR IGNORE INTO __m2r_configurations VALUES(?,?,?,?,?,?,?,?,?)");
  for (const auto& o : k_config_options) {
    c.reset();
    c.bind(1, static_cast<std::int64_t>(o.id)).bind(2, std::string(o.name)).bind(3, o.value).bind(4, o.minimum)
        .bind(5, o.maximum).bind(6, o.value).bind(7, std::string(o.description))
        .bind(8, static_cast<std::int64_t>(o.dynamic)).bind(9, static_cast<std::int64_t>(o.advanced));
    c.step();
  }
}

void create_server_object_views(sqlite3* c, bool attached_msdb) {
  const std::string m = attached_msdb ? "msdb." : "main.";
  exec(c,
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.servers\" AS SELECT server_id, name, product, provider, data_source, location,"
       " provider_string, catalog, 0 AS connect_timeout, 0 AS query_timeout, is_linked, 1 AS is_remote_login_enabled,"
       " is_linked AS is_rpc_out_enabled, is_linked AS is_data_access_enabled, modify_date FROM " + m + "__m2r_servers;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.credentials\" AS SELECT credential_id, name, credential_identity, create_date,"
       " modify_date, target_type, target_id FROM " + m + "__m2r_credentials;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.server_triggers\" AS SELECT name, object_id, 100 AS parent_class,"
       " 'SERVER' AS parent_class_desc, 0 AS parent_id, 'TR' AS type, 'SQL_TRIGGER' AS type_desc, create_date, modify_date,"
       " 0 AS is_ms_shipped, is_disabled FROM " + m + "__m2r_server_triggers;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.server_sql_modules\" AS SELECT object_id, definition FROM " + m + "__m2r_server_triggers;"
       // One row per event of each trigger (events: newline-separated, upper case).
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.server_trigger_events\" AS WITH RECURSIVE e(object_id, ev, rest) AS ("
       " SELECT object_id, '', events || char(10) FROM " + m + "__m2r_server_triggers"
       " UNION ALL SELECT object_id, substr(rest, 1, instr(rest, char(10)) - 1), substr(rest, instr(rest, char(10)) + 1)"
       " FROM e WHERE rest <> '') SELECT object_id, ev AS type_desc, 0 AS is_first, 0 AS is_last FROM e WHERE ev <> '';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.configurations\" AS SELECT configuration_id, name, value, minimum, maximum,"
       " value_in_use, description, is_dynamic, is_advanced FROM " + m + "__m2r_configurations;");
}

bool SessionImpl::server_object_procedure(const std::string& proc, const std::string& dbpart,
                                          const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                                          const CallOutputs* outputs, ResultSink& sink) {
  static const std::set<std::string> agent = {"sp_add_job", "sp_add_jobstep", "sp_add_jobserver", "sp_add_jobschedule",
                                              "sp_delete_job"};
  static const std::set<std::string> server = {"sp_addlinkedserver", "sp_dropserver", "sp_configure"};
  const bool is_agent = agent.count(proc) > 0;
  if (!is_agent && !server.count(proc)) return false;
  if (is_agent) {
    // The Agent's procedures are in msdb (a bare sp_ name looks in master, where they are not).
    const bool in_msdb = dbpart.empty() ? iequals(m_db, "msdb") : dbpart == "msdb";
    if (!in_msdb) raise(2812, 16, "Could not find stored procedure '" + proc + "'.");
  }
  // A parameter by name or by its documented position; nullopt when absent or NULL.
  auto param = [&](const char* name, std::size_t pos) -> std::optional<Value> {
    const Value* v = nullptr;
    if (auto it = args.find(name); it != args.end()) v = &it->second;
    else if (pos < positional.size()) v = &positional[pos];
    if (!v || std::holds_alternative<std::monostate>(*v)) return std::nullopt;
    return *v;
  };
  auto text = [&](const char* name, std::size_t pos) -> std::optional<std::string> {
    auto v = param(name, pos);
    if (!v) return std::nullopt;
    if (auto* b = std::get_if<Bytes>(&*v)) return guid_from_bytes(b->data);
    return value_str(*v);
  };
  auto number = [&](const char* name, std::size_t pos, std::int64_t def) -> std::int64_t {
    auto v = param(name, pos);
    if (!v) return def;
    if (auto* i = std::get_if<std::int64_t>(&*v)) return *i;
    if (auto* d = std::get_if<double>(&*v)) return static_cast<std::int64_t>(*d);
    const std::string s = value_str(*v);
    try {
      return std::stoll(s);
    } catch (...) {
      raise(8114, 16, "Error converting data type varchar to int.");
    }
  };
  auto required = [&](const char* name, std::size_t pos) {
    auto v = text(name, pos);
    if (!v) raise(201, 16, "Procedure or function '" + proc + "' expects parameter '" + name + "', which was not supplied.");
    return *v;
  };
  auto finish = [&](int status = 0) {
    sink.return_status(status);
    sink.done(DoneKind::proc, std::nullopt, false);
  };
  const bool rds = m_inst.config().kind == InstanceKind::rds;
  std::unique_lock<std::mutex> lock(m_inst.msdb_mutex());
  sqlite3* msdb = m_inst.msdb();

  // The job named by @job_id or @job_name (exactly one of them: Msg 14294), or Msg 14262.
  auto find_job = [&](std::size_t id_pos, std::size_t name_pos) -> std::pair<std::string, std::string> {
    const auto id = text("@job_id", id_pos), name = text("@job_name", name_pos);
    if (id.has_value() == name.has_value()) raise(14294, 16, "Supply either @job_id or @job_name to identify the job.");
    Stmt s(msdb, id ? "SELECT job_id, name FROM sysjobs WHERE job_id = ? COLLATE NOCASE"
                    : "SELECT job_id, name FROM sysjobs WHERE name = ? COLLATE NOCASE");
    s.bind(1, id ? upper_text(*id) : *name);
    if (!s.step()) {
      raise(14262, 16, id ? "The specified @job_id ('" + *id + "') does not exist."
                          : "The specified @job_name ('" + *name + "') does not exist.");
    }
    return {s.str(0), s.str(1)};
  };

  if (proc == "sp_add_job") {
    const std::string name = required("@job_name", 0);
    if (name.find('%') != std::string::npos) {
      raise(14235, 16, "The specified '@job_name' is invalid (it cannot contain the percent (%) character).");
    }
    if (query_int(msdb, "SELECT COUNT(*) FROM sysjobs WHERE name = " + quote_literal(name) + " COLLATE NOCASE")) {
      raise(14261, 16, "The specified @job_name ('" + name + "') already exists.");
    }
    const std::string job_id = new_guid();
    const std::string now = now_datetime();
    Stmt s(msdb, "INSERT INTO sysjobs(job_id, name, enabled, description, start_step_id, category_id, owner_sid,"
                 " date_created, date_modified) VALUES(?,?,?,?,?,0,X'01',?,?)");
    s.bind(1, job_id).bind(2, name).bind(3, number("@enabled", 1, 1))
        .bind(4, text("@description", 2).value_or("No description available.")).bind(5, number("@start_step_id", 3, 1))
        .bind(6, now).bind(7, now);
    s.step();
    // @job_id OUTPUT: the new job's id, to the caller's variable (EXEC in a batch) or as a
    // RETURNVALUE (an RPC). uniqueidentifier, or binary(16) as scripts often declare it.
    const std::size_t id_position = 16;  // @job_id is the procedure's 17th parameter
    if (outputs && outputs->requested("@job_id", id_position)) {
      const std::string target = outputs->target("@job_id", id_position);
      ColumnType type;
      type.type = SqlType::uniqueidentifier;
      if (outputs->to_sink) {
        sink.return_status(0);
        sink.return_value("@job_id", type, Value(job_id));
        sink.done(DoneKind::proc, std::nullopt, false);
        return true;
      }
      if (auto it = m_vars.find(lower(target)); it != m_vars.end()) {
        Cell cell;
        if (it->second.type.type == SqlType::binary || it->second.type.type == SqlType::varbinary) {
          cell.type = SQLITE_BLOB;
          cell.s = guid_to_bytes(job_id);
        } else {
          cell.type = SQLITE_TEXT;
          cell.s = job_id;
        }
        it->second.value = cell;
      }
    }
    finish();
    return true;
  }
  if (proc == "sp_add_jobstep") {
    const auto [job_id, job_name] = find_job(0, 1);
    const std::string step_name = required("@step_name", 3);
    std::string subsystem = text("@subsystem", 4).value_or("TSQL");
    const char* canonical = nullptr;
    for (const char* s : k_subsystems) if (iequals(s, subsystem)) canonical = s;
    if (!canonical) {
      raise(14234, 16, "The specified '@subsystem' is invalid (valid values are returned by sp_enum_sqlagent_subsystems).");
    }
    subsystem = canonical;
    if (query_int(msdb, "SELECT COUNT(*) FROM sysjobsteps WHERE job_id = " + quote_literal(job_id) +
                            " AND step_name = " + quote_literal(step_name) + " COLLATE NOCASE")) {
      raise(14261, 16, "The specified @step_name ('" + step_name + "') already exists.");
    }
    const std::int64_t steps = query_int(msdb, "SELECT COUNT(*) FROM sysjobsteps WHERE job_id = " + quote_literal(job_id));
    const std::int64_t step_id = number("@step_id", 2, steps + 1);
    if (step_id < 1 || step_id > steps + 1) {
      raise(14266, 16, "The specified '@step_id' is invalid (valid values are: 1.." + std::to_string(steps + 1) + ").");
    }
    const auto database = text("@database_name", 13);
    if (database && subsystem == "TSQL" && !m_inst.find(*database)) {
      raise(14262, 16, "The specified @database_name ('" + *database + "') does not exist.");
    }
    // A step inserted before others moves them down, as sp_add_jobstep does.
    exec(msdb, "UPDATE sysjobsteps SET step_id = step_id + 1000000 WHERE job_id = " + quote_literal(job_id) +
                   " AND step_id >= " + std::to_string(step_id) + ";"
               "UPDATE sysjobsteps SET step_id = step_id - 999999 WHERE job_id = " + quote_literal(job_id) +
                   " AND step_id >= 1000000;");
    Stmt s(msdb, "INSERT INTO sysjobsteps(job_id, step_id, step_name, subsystem, command, on_success_action,"
                 " on_success_step_id, on_fail_action, on_fail_step_id, server, database_name, database_user_name,"
                 " retry_attempts, retry_interval, output_file_name, step_uid) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, job_id).bind(2, step_id).bind(3, step_name).bind(4, subsystem).bind(5, text("@command", 5).value_or(""))
        .bind(6, number("@on_success_action", 8, 1)).bind(7, number("@on_success_step_id", 9, 0))
        .bind(8, number("@on_fail_action", 10, 2)).bind(9, number("@on_fail_step_id", 11, 0));
    if (auto v = text("@server", 12)) s.bind(10, *v); else s.bind_null(10);
    // "If database_name isn't specified, master is used" (TSQL steps).
    if (subsystem == "TSQL") s.bind(11, database.value_or("master")); else s.bind_null(11);
    if (auto v = text("@database_user_name", 14)) s.bind(12, *v); else s.bind_null(12);
    s.bind(13, number("@retry_attempts", 15, 0)).bind(14, number("@retry_interval", 16, 0));
    if (auto v = text("@output_file_name", 18)) s.bind(15, *v); else s.bind_null(15);
    s.bind(16, new_guid());
    s.step();
    exec(msdb, "UPDATE sysjobs SET date_modified = " + quote_literal(now_datetime()) + ", version_number = version_number + 1"
               " WHERE job_id = " + quote_literal(job_id));
    finish();
    return true;
  }
  if (proc == "sp_add_jobserver") {
    const auto [job_id, job_name] = find_job(0, 1);
    const std::string server_name = text("@server_name", 2).value_or("(LOCAL)");
    std::int64_t server_id = 0;
    if (!iequals(server_name, "(LOCAL)") && !iequals(server_name, m_inst.info().server_name)) {
      raise(14262, 16, "The specified @server_name ('" + server_name + "') does not exist.");
    }
    if (query_int(msdb, "SELECT COUNT(*) FROM sysjobservers WHERE job_id = " + quote_literal(job_id) +
                            " AND server_id = " + std::to_string(server_id))) {
      raise(14269, 16, "Job '" + job_name + "' is already targeted at server '" + m_inst.info().server_name + "'.");
    }
    exec(msdb, "INSERT INTO sysjobservers(job_id, server_id) VALUES(" + quote_literal(job_id) + ", 0)");
    finish();
    return true;
  }
  if (proc == "sp_add_jobschedule") {
    const auto [job_id, job_name] = find_job(0, 1);
    const std::string name = required("@name", 2);
    Stmt s(msdb, "INSERT INTO sysschedules(schedule_uid, name, owner_sid, enabled, freq_type, freq_interval,"
                 " freq_subday_type, freq_subday_interval, freq_relative_interval, freq_recurrence_factor,"
                 " active_start_date, active_end_date, active_start_time, active_end_time, date_created, date_modified)"
                 " VALUES(?,?,X'01',?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const std::string now = now_datetime();
    s.bind(1, new_guid()).bind(2, name).bind(3, number("@enabled", 3, 1)).bind(4, number("@freq_type", 4, 1))
        .bind(5, number("@freq_interval", 5, 0)).bind(6, number("@freq_subday_type", 6, 0))
        .bind(7, number("@freq_subday_interval", 7, 0)).bind(8, number("@freq_relative_interval", 8, 0))
        .bind(9, number("@freq_recurrence_factor", 9, 0)).bind(10, number("@active_start_date", 10, 20000101))
        .bind(11, number("@active_end_date", 11, 99991231)).bind(12, number("@active_start_time", 12, 0))
        .bind(13, number("@active_end_time", 13, 235959)).bind(14, now).bind(15, now);
    s.step();
    exec(msdb, "INSERT INTO sysjobschedules(schedule_id, job_id) VALUES(" + std::to_string(sqlite3_last_insert_rowid(msdb)) +
                   ", " + quote_literal(job_id) + ")");
    finish();
    return true;
  }
  if (proc == "sp_delete_job") {
    const auto [job_id, job_name] = find_job(0, 1);
    const std::string id = quote_literal(job_id);
    exec(msdb, "DELETE FROM sysjobsteps WHERE job_id = " + id + "; DELETE FROM sysjobservers WHERE job_id = " + id + ";"
               // @delete_unused_schedule defaults to 1: schedules no other job uses go with the job.
               "DELETE FROM sysschedules WHERE schedule_id IN (SELECT schedule_id FROM sysjobschedules WHERE job_id = " + id +
               ") AND schedule_id NOT IN (SELECT schedule_id FROM sysjobschedules WHERE job_id <> " + id + ");"
               "DELETE FROM sysjobschedules WHERE job_id = " + id + "; DELETE FROM sysjobs WHERE job_id = " + id + ";");
    finish();
    return true;
  }
  if (proc == "sp_addlinkedserver") {
    const std::string name = required("@server", 0);
    const std::string product = text("@srvproduct", 1).value_or("");
    if (query_int(msdb, "SELECT COUNT(*) FROM __m2r_servers WHERE name = " + quote_literal(name) + " COLLATE NOCASE")) {
      raise(15028, 16, "The server '" + name + "' already exists.");
    }
    // @srvproduct = N'SQL Server': the provider and data source are implied (the server's name).
    const bool sql_server = iequals(product, "SQL Server");
    const std::string provider = sql_server ? "SQLNCLI" : text("@provider", 2).value_or("");
    if (!sql_server && provider.empty()) {
      raise(15429, 16, "'' is an invalid product name.");
    }
    const std::int64_t id = query_int(msdb, "SELECT COALESCE(MAX(server_id), 0) + 1 FROM __m2r_servers");
    Stmt s(msdb, "INSERT INTO __m2r_servers(server_id, name, product, provider, data_source, location, provider_string,"
                 " catalog, is_linked, modify_date) VALUES(?,?,?,?,?,?,?,?,1,?)");
    s.bind(1, id).bind(2, name).bind(3, product).bind(4, provider)
        .bind(5, sql_server ? name : text("@datasrc", 3).value_or(""));
    if (auto v = text("@location", 4)) s.bind(6, *v); else s.bind_null(6);
    if (auto v = text("@provstr", 5)) s.bind(7, *v); else s.bind_null(7);
    if (auto v = text("@catalog", 6)) s.bind(8, *v); else s.bind_null(8);
    s.bind(9, now_datetime());
    s.step();
    finish();
    return true;
  }
  if (proc == "sp_dropserver") {
    const std::string name = required("@server", 0);
    if (!query_int(msdb, "SELECT COUNT(*) FROM __m2r_servers WHERE name = " + quote_literal(name) + " COLLATE NOCASE")) {
      raise(15015, 16, "The server '" + name + "' does not exist. Use sp_helpserver to show available servers.");
    }
    exec(msdb, "DELETE FROM __m2r_servers WHERE name = " + quote_literal(name) + " COLLATE NOCASE");
    finish();
    return true;
  }
  // sp_configure [@configname [, @configvalue]]: "any unique string that is part of the
  // configuration name"; advanced options only while 'show advanced options' is 1 (in use).
  const auto configname = text("@configname", 0);
  const auto configvalue = param("@configvalue", 1);
  const bool show_advanced =
      query_int(msdb, "SELECT value_in_use FROM __m2r_configurations WHERE name = 'show advanced options'") == 1;
  const std::string visible = show_advanced ? "1 = 1" : "is_advanced = 0";
  std::string where = visible;
  if (configname) {
    std::string exact = "name = " + quote_literal(*configname) + " COLLATE NOCASE AND (" + visible + ")";
    const std::string like = "instr(lower(name), lower(" + quote_literal(*configname) + ")) > 0 AND (" + visible + ")";
    const auto exact_n = query_int(msdb, "SELECT COUNT(*) FROM __m2r_configurations WHERE " + exact);
    const auto like_n = query_int(msdb, "SELECT COUNT(*) FROM __m2r_configurations WHERE " + like);
    if (exact_n == 0 && like_n == 0) {
      raise(15123, 16, "The configuration option '" + *configname + "' does not exist, or it may be an advanced option.");
    }
    if (exact_n == 0 && like_n > 1) raise(15124, 16, "The configuration option '" + *configname + "' is not unique.");
    // The one option meant, by its exact name (the listing below is T-SQL).
    where = "name = " + quote_literal(query_str(msdb, "SELECT name FROM __m2r_configurations WHERE " + (exact_n ? exact : like)));
  }
  if (configvalue) {
    // RDS: the master user lacks ALTER SETTINGS; parameters are set in the DB parameter group.
    if (rds) raise(15247, 16, "User does not have permission to perform this action.");
    Stmt o(msdb, "SELECT name, value, minimum, maximum FROM __m2r_configurations WHERE " + where);
    o.step();
    const std::string name = o.str(0);
    const std::int64_t old_value = o.i64(1), minimum = o.i64(2), maximum = o.i64(3);
    const std::int64_t v = number("@configvalue", 1, 0);
    if (v < minimum || v > maximum) {
      raise(15129, 16, "'" + std::to_string(v) + "' is not a valid value for configuration option '" + name + "'.");
    }
    Stmt u(msdb, "UPDATE __m2r_configurations SET value = ? WHERE name = ?");
    u.bind(1, v).bind(2, name);
    u.step();
    Message m;
    m.number = 15457;
    m.severity = 0;
    m.text = "Configuration option '" + name + "' changed from " + std::to_string(old_value) + " to " + std::to_string(v) +
             ". Run the RECONFIGURE statement to install.";
    m.procedure = "sp_configure";
    sink.message(m);
    finish();
    return true;
  }
  // The listing: name, minimum, maximum, config_value, run_value, alphabetically (a SELECT on
  // the session's own connection: msdb's writer lock is not needed for it).
  lock.unlock();
  const std::string sql = "SELECT CAST(name AS nvarchar(35)) AS name, minimum, maximum, value AS config_value,"
                          " value_in_use AS run_value FROM sys.configurations WHERE " + where + " ORDER BY name";
  for (const auto& st : split_statements(sql)) execute_statement(st, sink, true);
  finish();
  return true;
}

bool SessionImpl::server_object_statement(const Statement& st, ResultSink& sink, DoneKind dk) {
  const auto& t = st.tokens;
  if (t.empty() || t[0].kind != TokKind::word) return false;
  const bool rds = m_inst.config().kind == InstanceKind::rds;
  auto done = [&]() { sink.done(dk, std::nullopt, false); };
  // RECONFIGURE [WITH OVERRIDE]: the configured values of dynamic options come into use.
  if (t[0].is("RECONFIGURE")) {
    if (t.size() > 1 && !(t.size() == 3 && t[1].is("WITH") && t[2].is("OVERRIDE"))) syntax_near(t, 1);
    if (rds) raise(5812, 14, "You do not have permission to run the RECONFIGURE statement.");
    if (m_xact) raise(574, 16, "CONFIG statement cannot be used inside a user transaction.");
    std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
    exec(m_inst.msdb(), "UPDATE __m2r_configurations SET value_in_use = value WHERE is_dynamic = 1");
    done();
    return true;
  }
  const bool create = t[0].is("CREATE"), alter = t[0].is("ALTER"), drop = t[0].is("DROP");
  const bool enable = t[0].is("ENABLE"), disable = t[0].is("DISABLE");
  if (!(create || alter || drop || enable || disable) || t.size() < 3) return false;
  std::size_t i = 1;
  bool or_alter = false;
  if (create && t.size() > 3 && t[1].is("OR") && t[2].is("ALTER")) {
    or_alter = true;
    i = 3;
  }
  // CREATE / ALTER / DROP CREDENTIAL name [WITH IDENTITY = '...' [, SECRET = '...']]
  if (t[i].is("CREDENTIAL") && !or_alter && !enable && !disable) {
    if (i + 1 >= t.size() || !t[i + 1].is_name()) syntax_near(t, i + 1);
    const std::string name = t[i + 1].text;
    std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
    sqlite3* msdb = m_inst.msdb();
    const bool exists = query_int(msdb, "SELECT COUNT(*) FROM __m2r_credentials WHERE name = " + quote_literal(name) +
                                            " COLLATE NOCASE") > 0;
    if (drop) {
      if (t.size() > i + 2) syntax_near(t, i + 2);
      if (!exists) raise(15151, 16, "Cannot drop the credential '" + name + "', because it does not exist or you do not have permission.");
      exec(msdb, "DELETE FROM __m2r_credentials WHERE name = " + quote_literal(name) + " COLLATE NOCASE");
      done();
      return true;
    }
    std::size_t k = i + 2;
    if (k >= t.size() || !t[k].is("WITH")) syntax_near(t, k);
    std::optional<std::string> identity;
    for (++k; k < t.size();) {
      if (k + 2 >= t.size() || !is_sym(t[k + 1], "=") || t[k + 2].kind != TokKind::string) syntax_near(t, k);
      if (t[k].is("IDENTITY")) identity = t[k + 2].text;
      else if (!t[k].is("SECRET")) syntax_near(t, k);  // the secret is checked for form only: it is never stored
      k += 3;
      if (k < t.size() && is_sym(t[k], ",")) ++k;
      else if (k < t.size() && t[k].is("FOR")) unsupported("CREATE CREDENTIAL ... FOR CRYPTOGRAPHIC PROVIDER");
      else if (k < t.size()) syntax_near(t, k);
    }
    if (!identity) syntax_near(t, i + 2);
    if (create && exists) raise(15025, 16, "The credential '" + name + "' already exists.");
    if (alter && !exists) raise(15151, 16, "Cannot alter the credential '" + name + "', because it does not exist or you do not have permission.");
    const std::string now = now_datetime();
    if (create) {
      Stmt s(msdb, "INSERT INTO __m2r_credentials(name, credential_identity, create_date, modify_date) VALUES(?,?,?,?)");
      s.bind(1, name).bind(2, *identity).bind(3, now).bind(4, now);
      s.step();
    } else {
      Stmt s(msdb, "UPDATE __m2r_credentials SET credential_identity = ?, modify_date = ? WHERE name = ? COLLATE NOCASE");
      s.bind(1, *identity).bind(2, now).bind(3, name);
      s.step();
    }
    done();
    return true;
  }
  // Server-level DDL triggers: ... TRIGGER name ON ALL SERVER ...
  if (!t[i].is("TRIGGER") || i + 4 >= t.size() || !t[i + 2].is("ON") || !t[i + 3].is("ALL") || !t[i + 4].is("SERVER")) {
    return false;
  }
  const std::string name = t[i + 1].text;
  std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
  sqlite3* msdb = m_inst.msdb();
  const bool exists = query_int(msdb, "SELECT COUNT(*) FROM __m2r_server_triggers WHERE name = " + quote_literal(name) +
                                          " COLLATE NOCASE") > 0;
  if (drop || enable || disable) {
    if (t.size() > i + 5) syntax_near(t, i + 5);
    if (!exists) {
      raise(3701, 11, std::string("Cannot ") + (drop ? "drop" : enable ? "enable" : "disable") + " the trigger '" + name +
                          "', because it does not exist or you do not have permission.");
    }
    if (drop) exec(msdb, "DELETE FROM __m2r_server_triggers WHERE name = " + quote_literal(name) + " COLLATE NOCASE");
    else exec(msdb, "UPDATE __m2r_server_triggers SET is_disabled = " + std::string(disable ? "1" : "0") +
                        " WHERE name = " + quote_literal(name) + " COLLATE NOCASE");
    done();
    return true;
  }
  // CREATE [OR ALTER] | ALTER TRIGGER name ON ALL SERVER [WITH ...] { FOR | AFTER } event [, ...] AS body
  // RDS: "Server-level triggers" are among the features RDS does not support; creating one
  // needs CONTROL SERVER, which the master user does not have.
  if (rds) raise(15247, 16, "User does not have permission to perform this action.");
  std::size_t k = i + 5;
  if (k < t.size() && t[k].is("WITH")) {
    ++k;
    while (k < t.size() && !(t[k].is("FOR") || t[k].is("AFTER"))) ++k;
  }
  if (k >= t.size() || !(t[k].is("FOR") || t[k].is("AFTER"))) syntax_near(t, k);
  std::string events;
  for (++k; k < t.size() && !t[k].is("AS"); ++k) {
    if (is_sym(t[k], ",")) continue;
    if (!t[k].is_name()) syntax_near(t, k);
    events += upper_text(t[k].text) + "\n";
  }
  if (events.empty() || k + 1 >= t.size()) syntax_near(t, k);
  // The body is compiled when the trigger is created, as a procedure's is.
  ParseOptions o;
  o.procedure_body = true;
  parse_batch(st.text.substr(t[k + 1].offset - t[0].offset), o);
  if (create && !or_alter && exists) raise(2714, 16, "There is already an object named '" + name + "' in the database.");
  if (alter && !exists) raise(3701, 11, "Cannot alter the trigger '" + name + "', because it does not exist or you do not have permission.");
  const std::string now = now_datetime();
  if (exists) {
    Stmt s(msdb, "UPDATE __m2r_server_triggers SET definition = ?, events = ?, modify_date = ? WHERE name = ? COLLATE NOCASE");
    s.bind(1, st.text).bind(2, events).bind(3, now).bind(4, name);
    s.step();
  } else {
    // Object ids of server triggers are the instance's own; any value not used by another.
    const std::int64_t id = query_int(msdb, "SELECT COALESCE(MAX(object_id), 1100000000) + 1 FROM __m2r_server_triggers");
    Stmt s(msdb, "INSERT INTO __m2r_server_triggers(object_id, name, definition, events, create_date, modify_date)"
                 " VALUES(?,?,?,?,?,?)");
    s.bind(1, id).bind(2, name).bind(3, st.text).bind(4, events).bind(5, now).bind(6, now);
    s.step();
  }
  done();
  return true;
}

}  // namespace sandbox::engine
