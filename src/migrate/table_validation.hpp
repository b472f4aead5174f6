#pragma once
// Row counts and checksums of every user table, read from source and target.
#include "core/validation.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

Expected<std::vector<TableFingerprint>> fingerprint_tables(mssql::SqlSession& db);

Expected<ValidationReport> validate_databases(mssql::SqlSession& source, mssql::SqlSession& target);

}  // namespace m2r
