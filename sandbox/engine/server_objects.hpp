#pragma once
// What lives at the server level, outside any user database, so that a backup and restore of
// a database leaves it behind: SQL Server Agent jobs (msdb.dbo.sysjobs, sysjobsteps,
// sysschedules, sysjobschedules, sysjobservers and the msdb procedures that write them),
// linked servers (sys.servers), credentials (sys.credentials), server-level DDL triggers
// (sys.server_triggers) and the server configuration options (sys.configurations,
// sp_configure, RECONFIGURE). See README.md "Server objects".
//
// Storage: every table is in msdb.sqlite, the one server-wide file each session's connection
// attaches (SQL Server keeps the sys.* ones in master; where the sandbox stores them is not
// observable). Writes go through InstanceImpl::msdb() under msdb_mutex(); reads through the
// session's connection, as any other catalog view.
#include <string>

#include "engine/engine_internal.hpp"

namespace sandbox::engine {

// Creates the tables (IF NOT EXISTS), the local server's row of sys.servers (server_id 0) and
// the configuration options at their defaults; applies configured values pending a restart
// (value -> value_in_use), as a restart of SQL Server does.
void create_server_objects_schema(sqlite3* msdb, const std::string& server_name);

// The catalog views sys.servers, sys.credentials, sys.server_triggers, sys.server_trigger_events,
// sys.server_sql_modules, sys.configurations over those tables, on one session connection
// (`attached_msdb`: msdb is the attached schema "msdb", else the connection's main database).
void create_server_object_views(sqlite3* c, bool attached_msdb);

}  // namespace sandbox::engine
