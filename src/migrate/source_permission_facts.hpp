#pragma once
// Reads what the source login may do (core/source_permissions.hpp), as the login itself:
// HAS_PERMS_BY_NAME, IS_SRVROLEMEMBER, IS_ROLEMEMBER, and USER_NAME() in master and msdb. Read
// only; the session ends in the database it started in.
#include <string>

#include "core/source_permissions.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

SourcePermissionFacts gather_source_permission_facts(mssql::SqlSession& source, const std::string& database);

}  // namespace m2r
