#pragma once
// Cutover's validation without a downtime that grows with the database: the full comparison
// runs while CDC replicates (`mssql2rds validate`, journaled per table with the source's log
// position read before it started), and at cutover only the tables the source's log shows
// changed since their last equal validation are compared again. A table is reused only when
// that is provable: its last validation found it equal, the active log still reaches back to
// the position read before that validation, and no log record since names the table (a
// record's AllocUnitName is "schema.table" or "schema.table.index"). Everything else is
// compared: no record, a difference last time, a log that no longer reaches back.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/validation.hpp"

namespace m2r {

// One table's last validation, as the journal keeps it.
struct ValidatedTable {
  std::string table;  // schema.table
  bool equal = false;
  std::int64_t rows = 0;
  std::string method;
  std::vector<std::string> left_out_columns;
  std::string source_lsn;  // the source's last log record before the validation began
  std::string at;          // when it finished, UTC ISO 8601
};

// The source's active log as seen now: its first record and, per AllocUnitName, the last
// record at or after the oldest position asked about.
struct LogChanges {
  std::string first_lsn;
  std::map<std::string, std::string> last_lsn_by_unit;
};

struct RevalidationPlan {
  std::set<std::string> compare;            // compared again now
  std::vector<TableComparison> reused;      // equal before and unchanged since, with why
};

// `tables`: the source's tables now. `log`: nullopt when the log could not be read (every
// table is compared).
RevalidationPlan plan_revalidation(const std::vector<std::string>& tables,
                                   const std::map<std::string, ValidatedTable>& last,
                                   const std::optional<LogChanges>& log);

// The oldest source position of the equal validations among `last` (where the log must be
// read from); empty when there is none.
std::string oldest_position(const std::map<std::string, ValidatedTable>& last);

}  // namespace m2r
