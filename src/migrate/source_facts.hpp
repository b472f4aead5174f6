#pragma once
// What `check` needs to know about the source database, read with queries that change
// nothing. A query the login may not run leaves its facts at their "unknown / absent" value;
// the evaluation in core/checks turns them into failures with fixes.
#include <string>

#include "core/checks.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

SourceFacts gather_source_facts(mssql::SqlSession& source, const std::string& database);

}  // namespace m2r
