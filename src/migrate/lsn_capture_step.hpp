#pragma once
// Reads the backup's LSNs from msdb.dbo.backupset and the log from fn_dblog, and decides the
// CDC start point (core/start_point.hpp, docs/facts.md §2).
#include "core/start_point.hpp"
#include "migrate/step_runner.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// Outputs: start_lsn (hex), start_lsn_numeric, rule, backup {first,last,checkpoint,database_backup}
// (hex), differential_base, open_transactions, replayed_transactions, lost_by_common_recipe, warnings.
Expected<nlohmann::json> run_lsn_capture_step(StepContext& ctx, mssql::SqlSession& source, const std::string& database,
                                              const std::string& first_backup_file);

// Table name from fn_dblog's AllocUnitName ("dbo.Orders.PK_Orders" -> "dbo.Orders").
std::string table_of_alloc_unit(const std::string& alloc_unit_name);

}  // namespace m2r
