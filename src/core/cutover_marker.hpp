#pragma once
// The cutover marker: a row written on the source once the application stopped, which the
// change stream must carry to the target. When the target has it, every change committed on
// the source before it has been applied (DMS applies in commit order), so the drain is proven
// rather than guessed from CloudWatch latency and table statistics, which arrive per minute
// and late and cannot tell a drained task from a stalled one.
//
// The table is created by `check --fix` before the backup, so the restore brings it to the
// target, and it is added to the publication (it has a primary key) like the user's tables.
#include <string>

#include "core/tsql.hpp"

namespace m2r::cutover_marker {

tsql::TableName table();  // dbo.mssql2rds_cutover_marker
// CREATE TABLE, when it does not exist yet.
std::string create_table();
// One row: `exists` is 1 when the table is there (run in the migrated database).
std::string table_exists();
// Parameter 1: the token (varchar). Run on the source.
std::string write();
// Parameter 1: the token. One row `arrived`: 1 when the target has the row.
std::string arrived();
// A fresh token from 128 random bits: 32 hex digits.
std::string new_token();

}  // namespace m2r::cutover_marker
