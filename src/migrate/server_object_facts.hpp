#pragma once
// What `check` reads at the server level (core/server_objects): the source's Agent jobs in msdb,
// linked servers, credentials (name and identity: a secret cannot be read), server-level
// triggers and sys.configurations, and the RDS target's sys.configurations. Queries that change
// nothing; one the login may not run leaves that part "unreadable" with the GRANT that lets it,
// which `check` reports as a warning, never a failure of the check itself.
#include <string>

#include "core/server_objects.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// `login`: the source login, for the GRANTs the facts suggest.
ServerObjectFacts gather_server_object_facts(mssql::SqlSession& source, const std::string& login);
TargetConfiguration gather_target_configuration(mssql::SqlSession& target);

}  // namespace m2r
