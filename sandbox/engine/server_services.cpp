#include "engine/server_services.hpp"

#include "engine/engine_internal.hpp"
#include "engine/principals.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

// Granted, or implied by sysadmin, CONTROL SERVER or ALTER SERVER STATE (the RDS master user
// holds it): permissions.cpp decides.
bool has_view_server_state(SessionImpl& session) { return session.sees_server_state(); }

void create_server_services_view(sqlite3* c) {
  exec(c,
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.dm_server_services\"(servicename nvarchar(256), startup_type int,"
       " startup_type_desc nvarchar(256), status int, status_desc nvarchar(256), process_id int,"
       " last_startup_time datetimeoffset(7), service_account nvarchar(256), filename nvarchar(256),"
       " is_clustered nvarchar(1), cluster_nodename nvarchar(256), instant_file_initialization_enabled nvarchar(1));");
}

void refresh_server_services(SessionImpl& session, sqlite3* c, const std::string& sql) {
  if (sql.find("\"sys.dm_server_services\"") == std::string::npos) return;
  if (!has_view_server_state(session)) {
    // SQL Server follows it with Msg 297 "The user does not have permission to perform this
    // action."; the sandbox sends the first message only.
    raise(300, 14, "VIEW SERVER STATE permission was denied on object 'server', database 'master'.");
  }
  exec(c, "DELETE FROM temp.\"sys.dm_server_services\";");
  const InstanceConfig& config = session.instance().config();
  const bool agent_installed = editions::has_agent(edition_of(config));
  const bool agent_up = agent_running(config);
  // startup_type 2 Automatic, 3 Manual, 4 Disabled; status 1 Stopped, 4 Running (the view's
  // documented codes). Express installs the Agent service disabled: it cannot be started.
  Stmt ins(c, "INSERT INTO temp.\"sys.dm_server_services\" VALUES(?,?,?,?,?,?,?,?,?,'N',NULL,'Y')");
  auto add = [&](const std::string& name, int startup, const char* startup_desc, bool running, std::int64_t pid,
                 const std::string& account, const std::string& file) {
    ins.reset();
    ins.bind(1, name).bind(2, static_cast<std::int64_t>(startup)).bind(3, std::string(startup_desc))
        .bind(4, static_cast<std::int64_t>(running ? 4 : 1)).bind(5, std::string(running ? "Running" : "Stopped"));
    if (running) ins.bind(6, pid); else ins.bind(6, static_cast<std::int64_t>(0));
    if (running) ins.bind(7, now_datetime() + " +00:00"); else ins.bind_null(7);
    ins.bind(8, account).bind(9, file);
    ins.step();
  };
  add("SQL Server (MSSQLSERVER)", 2, "Automatic", true, 1000, "NT Service\\MSSQLSERVER",
      "\"C:\\Program Files\\Microsoft SQL Server\\MSSQL\\Binn\\sqlservr.exe\" -sMSSQLSERVER");
  add("SQL Server Agent (MSSQLSERVER)", agent_installed ? (agent_up ? 2 : 3) : 4,
      agent_installed ? (agent_up ? "Automatic" : "Manual") : "Disabled", agent_up, 1001, "NT Service\\SQLSERVERAGENT",
      "\"C:\\Program Files\\Microsoft SQL Server\\MSSQL\\Binn\\SQLAGENT.EXE\" -i MSSQLSERVER");
}

}  // namespace sandbox::engine
