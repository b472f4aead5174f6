#pragma once
// Where validation results live between runs, and what the source's log says happened since:
// `validate` journals every table's result with the source's log position read before it began
// (an event "table_validated" per table); the cutover reads the last result per table and the
// log since the oldest equal one (core/incremental_validation decides what is compared again).
#include <map>
#include <optional>
#include <string>

#include "core/incremental_validation.hpp"
#include "core/journal.hpp"
#include "core/validation.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// The source's last log record now (fn_dblog's [Current LSN]); empty on an empty log.
Expected<std::string> source_log_position(mssql::SqlSession& source);

// The active log's first record, and per AllocUnitName the last record after `since`.
Expected<LogChanges> source_log_changes_since(mssql::SqlSession& source, const std::string& since);

// One event per table; `source_lsn` empty means the position was unknown (never reused).
Expected<void> record_validation(Journal& journal, const ValidationReport& report, const std::string& source_lsn);

// The last recorded result of each table (later events replace earlier ones); events the
// journal cannot read back are skipped, so a damaged one means that table is compared again.
Expected<std::map<std::string, ValidatedTable>> last_validations(Journal& journal);

}  // namespace m2r
