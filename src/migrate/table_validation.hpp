#pragma once
// Row counts and checksums of every user table, read from source and target.
#include "core/interrupt.hpp"
#include "core/validation.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// With `stop`: a stop cancels the table's query in flight and ends with ErrorKind::interrupted
// (validation only reads: nothing is left half done).
Expected<std::vector<TableFingerprint>> fingerprint_tables(mssql::SqlSession& db, const StopSignal* stop = nullptr);

Expected<ValidationReport> validate_databases(mssql::SqlSession& source, mssql::SqlSession& target,
                                              const StopSignal* stop = nullptr);

}  // namespace m2r
