#pragma once
// sys.dm_server_services: the instance's SQL Server and SQL Server Agent services, as Microsoft
// documents the view (servicename, startup_type[_desc], status[_desc], process_id, ...). What
// the product's check reads to tell whether Agent runs (MS-CDC's capture job needs it,
// docs/facts.md §13). Reading it needs VIEW SERVER STATE. See README.md "Editions, versions and
// SQL Server Agent".
#include <string>

#include <sqlite3.h>

namespace sandbox::engine {

class SessionImpl;

// VIEW SERVER STATE: a sysadmin, or RDS's master user (AWS grants it VIEW SERVER STATE). GRANT
// VIEW SERVER STATE to other logins is not modelled here.
bool has_view_server_state(SessionImpl& session);

// The view's (empty) table on a session's connection, so that statements naming it translate.
void create_server_services_view(sqlite3* c);
// Before a statement that names the view: fills it, or
// refuses with Msg 300 when the caller lacks VIEW SERVER STATE.
void refresh_server_services(SessionImpl& session, sqlite3* c, const std::string& sql);

}  // namespace sandbox::engine
